"""The callables a sync names in YAML -> CallableRef, each imported at load time.

Comparators, key functions, update_if_exists functions, callbacks, transforms and custom rules
name Python functions as 'package.module:function'; importing them here makes a typo fail the
load with the field to blame, not the first run.
"""

from collections.abc import Callable, Mapping
from typing import Any

from sync_pipeline.errors import SyncConfigError, did_you_mean
from sync_pipeline.syncs import config as cfg
from sync_pipeline.syncs.spec import CallableRef, UpdateRule, frozen_mapping

# Makes the error for one field of the sync being built: fail(field, reason).
Fail = Callable[[str, str], SyncConfigError]
_BUILTIN_COMPARATORS = {"casefold", "ignore"}


def load_ref(fail: Fail, value: str | cfg.FunctionRef | None, field: str) -> Any:
    """The CallableRef of `value`, imported once now (None stays None)."""
    if value is None:
        return None
    if isinstance(value, cfg.FunctionRef):
        ref = CallableRef(value.function, tuple(value.args))
    else:
        ref = CallableRef(value)
    try:
        ref.load()
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        raise fail(field, f"cannot load {ref.path!r}: {exc}") from None
    return ref


def comparator(fail: Fail, value: Any, field: str) -> CallableRef:
    """A built-in comparator by name, a float tolerance, or a function."""
    module = "sync_pipeline.engine.comparators"
    if isinstance(value, cfg.FloatTolerance):
        return CallableRef(f"{module}:float_tolerance", (value.float_tolerance,))
    if isinstance(value, str) and value in _BUILTIN_COMPARATORS:
        return CallableRef(f"{module}:{value}")
    if isinstance(value, str) and ":" not in value:
        raise fail(
            field,
            f"{value!r} is not casefold, ignore, {{float_tolerance: x}} or 'package.module:fn'"
            + did_you_mean(value, sorted(_BUILTIN_COMPARATORS)),
        )
    ref: CallableRef = load_ref(fail, value, field)
    return ref


def key_functions(fail: Fail, match_by: Any) -> Mapping[str, CallableRef]:
    """The per-field key functions of `match_by: {field: function}` (none for a list)."""
    if not isinstance(match_by, Mapping):
        return frozen_mapping()
    refs = {f: load_ref(fail, fn, f"match_by.{f}") for f, fn in match_by.items() if fn is not None}
    return frozen_mapping(refs)


def update_rules(fail: Fail, value: Any) -> Mapping[str, UpdateRule] | None:
    """update_if_exists: fields to copy, or {field: value | sql | function}."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return frozen_mapping(
            {f: UpdateRule("copy") for f in ([value] if isinstance(value, str) else value)}
        )
    rules: dict[str, UpdateRule] = {}
    for field, how in value.items():
        if isinstance(how, cfg.UpdateValue):
            rules[field] = UpdateRule("value", how.value)
        elif isinstance(how, cfg.UpdateSql):
            rules[field] = UpdateRule("sql", how.sql)
        else:
            rules[field] = UpdateRule(
                "function", load_ref(fail, how.function, f"update_if_exists.{field}.function")
            )
    return frozen_mapping(rules)


def callbacks(fail: Fail, value: cfg.Callbacks | None) -> Mapping[str, CallableRef]:
    """The callbacks given, by hook name."""
    if value is None:
        return frozen_mapping()
    given = value.model_dump(exclude_none=True)
    return frozen_mapping({k: load_ref(fail, getattr(value, k), f"callbacks.{k}") for k in given})
