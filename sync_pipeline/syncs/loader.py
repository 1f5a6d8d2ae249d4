"""Read sync specs from YAML; a bad entry fails at load naming the sync and the field's path."""

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sync_pipeline.errors import ConfigError, SyncConfigError, did_you_mean
from sync_pipeline.syncs import config as cfg
from sync_pipeline.syncs.build import build_spec
from sync_pipeline.syncs.spec import SyncSpec

CONFIG_ENV = "SYNC_CONFIG"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def config_path(default: Path | None = None) -> Path:
    """`$SYNC_CONFIG`, else `default`, else `./syncs.yaml`, else the packaged demo's syncs.yaml."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    if default is not None:
        return default
    local = Path.cwd() / "syncs.yaml"
    return local if local.is_file() else Path(__file__).resolve().parents[1] / "demo" / "syncs.yaml"


def load_syncs(path: Path | None = None) -> tuple[SyncSpec, ...]:
    """Parse and validate every sync in the YAML file (called when definitions load)."""
    path = path or config_path()
    if not path.is_file():
        raise ConfigError(f"sync config {str(path)!r} does not exist (set ${CONFIG_ENV})")
    return parse_syncs(yaml.safe_load(path.read_text()) or {}, source=str(path))


def parse_syncs(document: Any, source: str = "<config>") -> tuple[SyncSpec, ...]:
    """Validate a parsed YAML document `{syncs: [...]}` into specs."""
    if not isinstance(document, Mapping) or not isinstance(document.get("syncs"), list):
        raise ConfigError(f"{source}: expected a mapping with a list under 'syncs'")
    specs = tuple(parse_sync(entry, f"#{i}") for i, entry in enumerate(document["syncs"], start=1))
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise SyncConfigError(spec.name, "name", "is used by more than one sync")
        seen.add(spec.name)
    return specs


def parse_sync(entry: Any, position: str) -> SyncSpec:
    """One sync entry -> SyncSpec, or SyncConfigError naming the sync and the field."""
    if not isinstance(entry, Mapping):
        raise SyncConfigError(position, "", "each sync must be a mapping")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SyncConfigError(position, "name", f"{name!r} must match {_NAME.pattern}")
    try:
        model = cfg.SyncConfig.model_validate(dict(entry))
    except ValidationError as exc:
        raise shape_error(name, entry, exc) from None
    return build_spec(model)


def shape_error(sync: str, entry: Mapping[str, Any], exc: ValidationError) -> SyncConfigError:
    """The most useful pydantic error as SyncConfigError: field path, allowed values, a hint."""
    errors = exc.errors()
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    chosen = extra[0] if extra else errors[0]
    path = _real_path(entry, chosen["loc"], keep_last=chosen["type"] == "missing")
    field = _dotted(path)
    if chosen["type"] == "extra_forbidden":
        allowed = _fields_at(path[:-1])
        hint = did_you_mean(str(path[-1]), allowed)
        return SyncConfigError(sync, field, f"unknown field{hint}; allowed: {', '.join(allowed)}")
    if chosen["type"] == "missing":
        return SyncConfigError(sync, field, "is required")
    same = [e for e in errors if _real_path(entry, e["loc"]) == path]
    value = chosen.get("input")
    if chosen["type"] == "literal_error" and len(same) == 1:
        allowed = re.findall(r"'([^']*)'", str((chosen.get("ctx") or {}).get("expected", "")))
        hint = did_you_mean(str(value), allowed)
        return SyncConfigError(sync, field, f"{value!r} is not one of {', '.join(allowed)}{hint}")
    if len(same) == 1:
        return SyncConfigError(sync, field, f"{chosen['msg']}, got {value!r}")
    return SyncConfigError(sync, field, f"{value!r} is not valid; expected {_describe(path)}")


def _real_path(
    entry: Any, loc: Sequence[int | str], keep_last: bool = False
) -> tuple[int | str, ...]:
    """The error location in the document (pydantic adds union member names to `loc`)."""
    path: list[int | str] = []
    current = entry
    for i, part in enumerate(loc):
        in_mapping = isinstance(current, Mapping) and part in current
        if in_mapping or (
            isinstance(current, list) and isinstance(part, int) and part < len(current)
        ):
            current = current[part]
        elif keep_last and i == len(loc) - 1:
            pass
        else:
            continue
        path.append(part)
    return tuple(path)


def _dotted(path: Sequence[int | str]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields_at(path: Sequence[int | str]) -> list[str]:
    """The keys allowed in the mapping at `path`."""
    models: tuple[type[BaseModel], ...] = (cfg.SyncConfig,)
    if path:
        models = cfg.NESTED.get(str(path[0]), (cfg.SenderConfig,))
    return [name for model in models for name in model.model_fields]


def _describe(path: Sequence[int | str]) -> str:
    info = cfg.SyncConfig.model_fields.get(str(path[0])) if path else None
    return (info.description if info and info.description else "another shape") + (
        f" (see the JSON schema: {SCHEMA_FILE})"
    )


SCHEMA_FILE = "syncs.schema.json"
