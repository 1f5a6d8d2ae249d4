"""`sync-pipeline`: plan, run and inspect a sync from the terminal, without Dagster."""

from sync_pipeline.cli.commands import main

__all__ = ["main"]
