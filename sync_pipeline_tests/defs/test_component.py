"""SyncCollection: syncs declared in a dg project's defs.yaml load, translate and run."""

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster.components.core.component_tree import ComponentTreeException
from dagster.components.core.package_entry import discover_entry_point_package_objects

import sync_pipeline
from sync_pipeline.defs.component import SyncCollection
from sync_pipeline.demo.data import create_target
from sync_pipeline.errors import ConfigError, SyncConfigError
from sync_pipeline_tests.defs.conftest import QUIET

ORDERS = """
    type: sync_pipeline.SyncCollection
    attributes:
      translation:
        owners: [team:data, ana@example.com]
        tags: {tier: gold}
        key_prefix: erp
        group: erp_syncs
      syncs:
        - name: orders
          sender: {kind: sql, table: orders}
          table: orders
          match_by: order_id
          strategy: merge
          owners: [bo@example.com]
          tags: {domain: sales}
          partitioning: {kind: daily, column: ordered_at, start: 2026-01-01}
          rules:
            - {name: amount_in_range, kind: range, columns: [amount], min: 0, max: 100000}
"""
STEPS = ("extract", "normalized", "diff", "applied")
DG = Path(sys.executable).parent / "dg"


def make_project(root: Path, *defs_yamls: str) -> tuple[str, Path]:
    """A dg project under `root` with defs/<n>/defs.yaml each; returns its module and its path."""
    module = f"syncproj_{uuid.uuid4().hex[:8]}"
    for n, defs_yaml in enumerate(defs_yamls):
        (root / module / "defs" / f"c{n}").mkdir(parents=True)
        (root / module / "defs" / f"c{n}" / "defs.yaml").write_text(textwrap.dedent(defs_yaml))
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{module}"\nversion = "0"\n'
        f'[tool.dg]\ndirectory_type = "project"\n[tool.dg.project]\nroot_module = "{module}"\n'
    )
    (root / module / "__init__.py").write_text("")
    (root / module / "defs" / "__init__.py").write_text("")
    (root / module / "definitions.py").write_text(
        "from pathlib import Path\n\nimport dagster as dg\n\n\n@dg.definitions\n"
        "def defs() -> dg.Definitions:\n"
        "    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)\n"
    )
    return module, root


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *defs_yamls: str) -> dg.Definitions:
    _, root = make_project(tmp_path / "proj", *defs_yamls)
    monkeypatch.syspath_prepend(str(root))
    return dg.load_from_defs_folder(project_root=root)


def test_import_sync_pipeline_alone_does_not_import_dagster() -> None:
    code = "import sys, sync_pipeline; print('dagster' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert sync_pipeline.SyncCollection is SyncCollection
    assert "SyncCollection" in dir(sync_pipeline)


def test_component_is_registered_for_dg_as_sync_pipeline_sync_collection() -> None:
    registry = discover_entry_point_package_objects()
    found = {f"{key.namespace}.{key.name}": obj for key, obj in registry.items()}
    assert found["sync_pipeline.SyncCollection"] is SyncCollection


def test_defs_yaml_declares_a_translated_sync_family(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = load(tmp_path, monkeypatch, ORDERS)

    graph = defs.resolve_asset_graph()
    family = {dg.AssetKey(["erp", "orders", step]) for step in STEPS}
    sender = dg.AssetKey(["erp", "orders", "sender"])
    assert set(graph.get_all_asset_keys()) == family | {sender}
    for key in family | {sender}:
        node = graph.get(key)
        assert node.group_name == "erp_syncs"
        # the sync's own owners and tags, then the collection's translation
        assert list(node.owners) == ["bo@example.com", "team:data", "ana@example.com"]
        assert (node.tags["domain"], node.tags["tier"]) == ("sales", "gold")
    assert graph.get(dg.AssetKey(["erp", "orders", "extract"])).parent_keys == {sender}
    job = defs.resolve_job_def("orders_sync")
    assert job.asset_layer.selected_asset_keys == family
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"orders_sync", "orders_cleanup"}


def test_two_collections_in_one_project_share_the_resources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = ORDERS.replace("name: orders", "name: crm_orders").replace("prefix: erp", "prefix: crm")
    defs = load(tmp_path, monkeypatch, ORDERS, crm)

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    steps = (*STEPS, "sender")
    assert keys == {f"{p}/{step}" for p in ("erp/orders", "crm/crm_orders") for step in steps}
    assert defs.resolve_job_def("crm_orders_sync").asset_layer.selected_asset_keys == {
        dg.AssetKey(["crm", "crm_orders", step]) for step in STEPS
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("strategy: merge", "stratgy: merge"), "field 'stratgy': unknown field (did you mean"),
        (("strategy: merge", "strategy: mrege"), "field 'strategy': 'mrege' is not one of"),
        (("start: 2026-01-01", "start: 2026-13-01"), "field 'partitioning.start'"),
    ],
)
def test_invalid_sync_in_defs_yaml_names_the_sync_and_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(ComponentTreeException) as raised:
        load(tmp_path, monkeypatch, ORDERS.replace(*change))

    error = raised.value.__cause__
    assert isinstance(error, SyncConfigError)
    assert error.sync == "orders"
    assert message in str(error)


def test_collection_without_attributes_says_what_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ComponentTreeException) as raised:
        load(tmp_path, monkeypatch, "type: sync_pipeline.SyncCollection\n")

    assert isinstance(raised.value.__cause__, ConfigError)
    assert "needs `attributes: {syncs: [...]}`" in str(raised.value.__cause__)


@pytest.mark.integration
def test_sync_declared_in_defs_yaml_materializes_into_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sender_url: str
) -> None:
    target_url = f"sqlite:///{tmp_path / 'target.db'}"
    target = sa.create_engine(target_url)
    create_target(target)
    monkeypatch.setenv("SYNC_TARGET_URL", target_url)
    monkeypatch.setenv("SYNC_SENDER_URL", sender_url)
    monkeypatch.setenv("SYNC_STAGING_DIR", str(tmp_path / "staging"))
    defs = load(tmp_path, monkeypatch, ORDERS)

    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("orders_sync").execute_in_process(
            instance=instance, partition_key="2026-01-02", run_config=QUIET
        )
    with target.connect() as conn:
        days = conn.execute(sa.text("SELECT DISTINCT date(ordered_at) FROM orders")).scalars()
        written = list(days)
    target.dispose()

    assert result.success
    assert {e.asset_key for e in result.get_asset_materialization_events()} >= {
        dg.AssetKey(["erp", "orders", "applied"])
    }
    assert written == ["2026-01-02"]


@pytest.mark.integration
def test_dg_check_defs_passes_in_a_project_declaring_syncs(tmp_path: Path) -> None:
    _, root = make_project(tmp_path / "proj", ORDERS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNC_", "DAGSTER_HOME"))}
    env.update(VIRTUAL_ENV=sys.prefix, PYTHONPATH=str(root))
    done = subprocess.run(
        [str(DG), "check", "defs"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "All definitions loaded successfully" in done.stdout
