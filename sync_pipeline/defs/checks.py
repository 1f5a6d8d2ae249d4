"""Validation rules as blocking, partition-aware asset checks on `<sync>/normalized`, and the
`missing_rows` check on `<sync>/applied` that the batch-id sensor reports into."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
import sqlalchemy as sa

from sync_pipeline.defs.assets import FamilyKeys
from sync_pipeline.defs.metadata import outcome_metadata
from sync_pipeline.defs.partitions import partitions_for
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.syncs import rules, runner
from sync_pipeline.syncs.checking import check_chunks
from sync_pipeline.syncs.rules import SAMPLE_SIZE, RuleOutcome, key_text
from sync_pipeline.syncs.runner import Scope
from sync_pipeline.syncs.spec import Rule, SyncSpec
from sync_pipeline.syncs.staging import StagedBatch

MISSING_CHECK = "missing_rows"


def build_checks(spec: SyncSpec) -> list[dg.AssetChecksDefinition]:
    """One blocking check per row rule, the (non-blocking) missing-rows check, and Dagster's
    column-schema-change check on `applied` (warns when the target's columns changed)."""
    schema_change = dg.build_column_schema_change_checks(assets=[FamilyKeys.of(spec).applied])
    return [
        *(_row_check(spec, rule) for rule in rules.row_rules_for(spec)),
        _missing_check(spec),
        *schema_change,
    ]


def missing_check_key(spec: SyncSpec) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(FamilyKeys.of(spec).applied, MISSING_CHECK)


def outcome_result(outcome: RuleOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        metadata=outcome_metadata(outcome),
        description=outcome.detail or None,
    )


def _row_check(spec: SyncSpec, rule: Rule) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=FamilyKeys.of(spec).normalized,
        name=rule.name,
        blocking=True,
        partitions_def=partitions_for(spec),
        description=rule.description or rules.describe(rule),
    )
    def row_check(normalized: StagedBatch) -> dg.AssetCheckResult:
        (outcome,) = check_chunks([rule], normalized.chunks(), spec.key_columns)
        return outcome_result(outcome)

    return row_check


def missing_evaluation(
    spec: SyncSpec, engine: sa.Engine, batch_id: int, scope: Scope | None
) -> dg.AssetCheckEvaluation:
    """Rows in the batch's scope that batch `batch_id` did not see, as a check evaluation."""
    missing = runner.find_missing(engine, spec, batch_id, scope)
    keys = (list(spec.key_columns) or sorted(missing[0])) if missing else []
    sample = [key_text(tuple(row.get(k) for k in keys)) for row in missing[:SAMPLE_SIZE]]
    return dg.AssetCheckEvaluation(
        asset_key=FamilyKeys.of(spec).applied,
        check_name=MISSING_CHECK,
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "missing_rows": dg.MetadataValue.int(len(missing)),
            "sample_keys": dg.MetadataValue.json(sample),
            "batch_id": dg.MetadataValue.int(batch_id),
            "policy": spec.missing,
            "scope": scope.describe() if scope else "whole table",
        },
    )


def batch_facts(meta: Mapping[str, Any]) -> tuple[int | None, Scope | None]:
    """Batch id and scope recorded on an `applied` materialization."""
    batch = meta.get("batch_id")
    value = getattr(batch, "value", batch)
    return (int(value) if value is not None else None), Scope.from_metadata(
        {k: getattr(v, "value", v) for k, v in meta.items()}
    )


def _missing_check(spec: SyncSpec) -> dg.AssetChecksDefinition:
    keys = FamilyKeys.of(spec)

    @dg.asset_check(
        asset=keys.applied,
        name=MISSING_CHECK,
        description=(
            "Target rows the latest batch did not see (missing after batch, within its "
            f"partition). Policy: {spec.missing}. "
            f"Recorded by the `{spec.name}_missing_rows` sensor."
        ),
    )
    def missing_rows(
        context: dg.AssetCheckExecutionContext, target_db: SqlDatabase
    ) -> dg.AssetCheckResult:
        event = context.instance.get_latest_materialization_event(keys.applied)
        materialization = event.asset_materialization if event else None
        if materialization is None:
            return dg.AssetCheckResult(passed=True, description="no batch applied yet")
        batch_id, scope = batch_facts(materialization.metadata)
        if batch_id is None:
            return dg.AssetCheckResult(passed=True, description="latest event carries no batch")
        with runner.target_engine(spec, target_db.url) as engine:
            ev = missing_evaluation(spec, engine, batch_id, scope)
        return dg.AssetCheckResult(passed=ev.passed, severity=ev.severity, metadata=ev.metadata)

    return missing_rows
