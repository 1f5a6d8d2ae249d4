"""`SyncCollection`: syncs declared in a dg project's `defs.yaml`, in the shape of syncs.yaml.

    type: sync_pipeline.SyncCollection
    attributes:
      translation: {owners: [team:data], tags: {tier: gold}, key_prefix: erp, group: erp}
      syncs:
        - name: customers
          ...

The schema of `syncs` is the syncs.yaml models' (shown by `dg utils inspect-component` and the
UI's docs), but the entries are validated by the project's loader, so a bad sync fails with the
project's own error naming the sync and the field, with a "did you mean" hint.
"""

import dataclasses
import datetime as dt
import functools
import os
from collections.abc import Mapping
from typing import Any, Self, cast

import dagster as dg
from pydantic import BaseModel, Field, SkipValidation

from sync_pipeline.defs import resources
from sync_pipeline.defs.factory import build_location
from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs.config import SyncConfig
from sync_pipeline.syncs.loader import parse_syncs
from sync_pipeline.syncs.spec import SyncSpec


class Translation(dg.Model):
    """Applied to every asset of every sync in the collection."""

    owners: list[str] = Field(default=[], description="asset owners: emails or 'team:name'")
    tags: dict[str, str] = Field(default={}, description="asset tags, added to the kind tags")
    key_prefix: str | list[str] = Field(
        default=[], description="prefix of every asset key: <prefix>/<sync>/<step>"
    )
    group: str | None = Field(default=None, description="asset group (default: the sync's name)")

    def prefix(self) -> tuple[str, ...]:
        """The key prefix as a tuple of path parts."""
        return (self.key_prefix,) if isinstance(self.key_prefix, str) else tuple(self.key_prefix)

    def apply(self, spec: dg.AssetSpec) -> dg.AssetSpec:
        """Owners, tags and group on one asset (its key is prefixed by the factory)."""
        spec = spec.merge_attributes(owners=self.owners, tags=self.tags)
        return spec.replace_attributes(group_name=self.group) if self.group else spec


class SyncCollectionAttributes(dg.Model):
    """`attributes:` of a SyncCollection: the syncs, as in syncs.yaml, and a translation."""

    # SkipValidation: the schema is the syncs.yaml one, the loader gives the precise errors.
    syncs: SkipValidation[list[SyncConfig]] = Field(description="syncs, as in syncs.yaml")
    translation: Translation = Field(
        default_factory=Translation, description="owners, tags, key prefix and group"
    )


class SyncCollection(dg.Component):
    """Sync families (assets, checks, jobs, schedules, sensors) declared in `defs.yaml`."""

    def __init__(self, specs: tuple[SyncSpec, ...], translation: Translation | None = None):
        self.translation = translation or Translation()
        prefix = self.translation.prefix()
        self.specs = tuple(dataclasses.replace(s, key_prefix=prefix) for s in specs)

    @classmethod
    def get_model_cls(cls) -> type[BaseModel]:
        return SyncCollectionAttributes

    @classmethod
    def load(cls, attributes: BaseModel | None, context: dg.ComponentLoadContext) -> Self:
        """Validate the syncs with the project's loader (errors name the sync and the field)."""
        source = str(context.path / "defs.yaml")
        if attributes is None:
            raise ConfigError(f"{source}: SyncCollection needs `attributes: {{syncs: [...]}}`")
        model = cast(SyncCollectionAttributes, attributes)
        document: dict[str, Any] = {"syncs": [_dates(entry) for entry in model.syncs]}
        specs = parse_syncs(document, source=source)
        return cls(specs, model.translation)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """Every sync with the location's resources and executor, then the translation."""
        defs = build_location(self.specs, shared_resources(), resources.target_kind())
        return defs.map_asset_specs(func=self.translation.apply)


def shared_resources() -> dict[str, object]:
    """The location's resources, the same objects for every SyncCollection of a project
    (Definitions.merge accepts one object per resource key)."""
    envs = (
        resources.TARGET_URL_ENV,
        resources.SENDER_URL_ENV,
        resources.STAGING_DIR_ENV,
        resources.DEMO_DIR_ENV,
    )
    return _resources_for(os.getcwd(), *(os.environ.get(env) for env in envs))


@functools.cache
def _resources_for(*settings: str | None) -> dict[str, object]:
    """default_resources() once per distinct cwd and settings (the arguments are the cache key)."""
    return resources.default_resources()


def _dates(entry: Any) -> Any:
    """`partitioning.start` as a date: dg's YAML loader keeps `2026-01-01` a string."""
    part = entry.get("partitioning") if isinstance(entry, Mapping) else None
    if not isinstance(part, Mapping) or not isinstance(part.get("start"), str):
        return entry
    try:
        day = dt.date.fromisoformat(part["start"])
    except ValueError:
        return entry  # the loader names the sync and the field
    return {**entry, "partitioning": {**part, "start": day}}
