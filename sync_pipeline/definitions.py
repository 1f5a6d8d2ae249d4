"""The code location: one Definitions, built when Dagster loads it (never at import)."""

import dagster as dg

from sync_pipeline.defs.factory import build_location
from sync_pipeline.defs.resources import default_resources, target_kind
from sync_pipeline.syncs import load_syncs


@dg.definitions
def defs() -> dg.Definitions:
    """Syncs from `$SYNC_CONFIG` (default `syncs.yaml`), merged with the shared resources."""
    return build_location(load_syncs(), default_resources(), target_kind())
