"""The engine never imports dagster: the ruff rule that enforces it really fires."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ruff(path: str, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    "path", ["sync_pipeline/engine/x.py", "sync_pipeline/db/x.py", "sync_pipeline/senders/x.py"]
)
@pytest.mark.parametrize("source", ["import dagster\n", "from dagster import asset\n"])
def test_dagster_imports_are_rejected_outside_the_dagster_layer(path, source):
    result = ruff(path, source)
    assert result.returncode == 1 and "TID251" in result.stdout


def test_the_dagster_layer_may_import_dagster():
    assert (
        ruff("sync_pipeline/defs/x.py", "import dagster\n\n__all__ = ['dagster']\n").returncode == 0
    )


def test_tests_using_a_database_fixture_are_marked_integration(sqlite, request):
    assert request.node.get_closest_marker("integration") is not None
