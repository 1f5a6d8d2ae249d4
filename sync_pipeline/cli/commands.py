"""The `sync-pipeline` commands: plan, run, missing, check. Quiet: only results are printed."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from sync_pipeline.cli import render
from sync_pipeline.cli.steps import Batch, check_sync, latest_batch, read_batch
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.errors import SyncError
from sync_pipeline.progress import tqdm_progress
from sync_pipeline.syncs import load_syncs, rules, runner
from sync_pipeline.syncs.checking import check_chunks
from sync_pipeline.syncs.local import find_sync, scope_of, sender_default, target_default
from sync_pipeline.syncs.missing import find_missing
from sync_pipeline.syncs.spec import SyncSpec

PARTITION = click.option("--partition", "-p", help="Partition key: a day (YYYY-MM-DD) or a value.")


@click.group()
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sync config (default: $SYNC_CONFIG, ./syncs.yaml, else the bundled demo).",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Plan, run and inspect the syncs of syncs.yaml without Dagster."""
    ctx.obj = config


@contextmanager
def user_errors() -> Iterator[None]:
    """The project's own errors as one line on stderr and exit status 1, not a traceback."""
    try:
        yield
    except SyncError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None


def _spec(ctx: click.Context, name: str) -> SyncSpec:
    return find_sync(load_syncs(ctx.obj), name)


def _label(spec: SyncSpec, partition: str | None) -> str:
    return spec.name + (f" [{partition}]" if partition else "")


def _failed_rules(spec: SyncSpec, batch: Batch) -> list[rules.RuleOutcome]:
    outcomes = check_chunks(rules.row_rules_for(spec), batch.staged.chunks(), spec.key_columns)
    failed = [o for o in outcomes if not o.passed]
    for o in failed:
        shown = "; ".join(o.evidence or o.sample)
        click.echo(f"check failed: {o.rule}: {o.failures} row(s): {shown}", err=True)
    return failed


@main.command()
@click.argument("sync")
@PARTITION
@click.option("--rows", default=20, show_default=True, help="Diff entries shown.")
@click.pass_context
def plan(ctx: click.Context, sync: str, partition: str | None, rows: int) -> None:
    """Show what `run` would change, as a table; writes nothing."""
    with user_errors():
        spec = _spec(ctx, sync)
        with (
            read_batch(spec, scope_of(spec, partition)) as batch,
            runner.target_engine(spec, target_default()) as engine,
        ):
            _failed_rules(spec, batch)
            if spec.create_table and runner.reflect_target(engine, spec) is None:
                click.echo(  # planning must not create it: `run` does
                    f"plan {_label(spec, partition)}: table {spec.table!r} does not exist yet; "
                    f"`run` creates it and adds the batch's {batch.staged.num_rows} row(s)"
                )
                return
            diff = runner.preview(engine, spec, batch.staged, batch.scope)
    entries = diff.preview(rows)
    if entries:
        header = ("effect", "key", "field", "old", "new")
        click.echo(render.table(header, render.diff_rows(entries)))
    click.echo(f"plan {_label(spec, partition)}: {render.counts(diff, render.DIFF_COUNTS)}")


@main.command()
@click.argument("sync")
@PARTITION
@click.pass_context
def run(ctx: click.Context, sync: str, partition: str | None) -> None:
    """Apply the batch in one transaction, with a progress bar on a terminal."""
    with user_errors():
        spec = _spec(ctx, sync)
        with read_batch(spec, scope_of(spec, partition)) as batch:
            if _failed_rules(spec, batch):
                raise click.ClickException(
                    f"sync {spec.name!r}: blocked by a check, nothing written"
                )
            result = _apply(spec, batch)
            runner.commit_cursor(spec, batch.staged, sender_default())
    click.echo(
        f"run {_label(spec, partition)}: {render.counts(result, render.COUNTS)} "
        f"batch_id={result.batch_id}"
    )


def _apply(spec: SyncSpec, batch: Batch) -> ImportResult:
    """Diff rules are judged by the runner on the whole batch (RuleError: nothing written)."""
    with (
        runner.target_engine(spec, target_default()) as engine,
        tqdm_progress() as progress,
    ):
        return runner.apply(engine, spec, batch.staged, batch.scope, progress=progress)


@main.command()
@click.argument("sync")
@PARTITION
@click.pass_context
def missing(ctx: click.Context, sync: str, partition: str | None) -> None:
    """List the target rows the latest batch (of the partition) did not see."""
    with user_errors():
        spec = _spec(ctx, sync)
        scope = scope_of(spec, partition)
        with runner.target_engine(spec, target_default()) as engine:
            batch_id = latest_batch(engine, spec, scope)
            rows = [] if batch_id is None else find_missing(engine, spec, batch_id, scope)
    if batch_id is None:
        raise click.ClickException(f"sync {spec.name!r}: no batch has been applied yet")
    if rows:
        header = list(rows[0])
        click.echo(render.table(header, ([render.text(r[c]) for c in header] for r in rows)))
    click.echo(f"missing {_label(spec, partition)}: {len(rows)} row(s) after batch {batch_id}")


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Load the config and connect to each sync's sender and target (passwords hidden)."""
    with user_errors():
        specs = load_syncs(ctx.obj)
    click.echo(f"config: OK ({len(specs)} sync(s))")
    failures = 0
    for spec in specs:
        for line, ok in check_sync(spec):
            failures += not ok
            click.echo(f"{spec.name}: {line}")
    if failures:
        raise click.ClickException(f"{failures} connection(s) failed")
