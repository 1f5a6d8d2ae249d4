"""Validation rules as blocking, partition-aware asset checks on `<sync>/normalized`, and the
`missing_rows` check on `<sync>/applied` that the batch-id sensor reports into."""

from collections.abc import Iterator

import dagster as dg

from sync_pipeline.defs.assets import FamilyKeys
from sync_pipeline.defs.metadata import outcome_metadata, plain_metadata
from sync_pipeline.defs.partitions import partitions_for
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.syncs import missing, rules, runner
from sync_pipeline.syncs.checking import check_chunks
from sync_pipeline.syncs.rules import RuleOutcome
from sync_pipeline.syncs.spec import SyncSpec
from sync_pipeline.syncs.staging import StagedBatch

MISSING_CHECK = "missing_rows"


def build_checks(spec: SyncSpec) -> list[dg.AssetChecksDefinition]:
    """One blocking check per row rule (all evaluated in one step), the (non-blocking)
    missing-rows check, and Dagster's column-schema-change check on `applied` (warns when the
    target's columns changed)."""
    schema_change = dg.build_column_schema_change_checks(assets=[FamilyKeys.of(spec).applied])
    return [
        *_row_checks(spec),
        _missing_check(spec),
        *schema_change,
    ]


def missing_check_key(spec: SyncSpec) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(FamilyKeys.of(spec).applied, MISSING_CHECK)


def outcome_result(outcome: RuleOutcome, key: dg.AssetKey) -> dg.AssetCheckResult:
    """A rule's outcome as the result of check `<rule>` on `key`."""
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=outcome.rule,
        passed=outcome.passed,
        metadata=outcome_metadata(outcome),
        description=outcome.detail or None,
    )


def _row_checks(spec: SyncSpec) -> list[dg.AssetChecksDefinition]:
    """The row rules as checks of one step: when several fail, the step's error (and the run
    page, which shows the first failed step's) names them all: "3 blocking asset checks
    failed ...: <sync>/normalized: a,b,c", not one failed step per rule saying "1 ... failed"."""
    row_rules = rules.row_rules_for(spec)
    if not row_rules:
        return []
    key = FamilyKeys.of(spec).normalized
    check_specs = [
        dg.AssetCheckSpec(
            rule.name,
            asset=key,
            blocking=True,
            partitions_def=partitions_for(spec),
            description=rule.description or rules.describe(rule),
        )
        for rule in row_rules
    ]

    @dg.multi_asset_check(
        name=key.to_python_identifier("rules"),
        specs=check_specs,
        can_subset=True,  # one rule can still be re-executed alone
        ins={"normalized": dg.AssetIn(key)},
    )
    def row_checks(
        context: dg.AssetCheckExecutionContext, normalized: StagedBatch
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {key.name for key in context.selected_asset_check_keys}
        chosen = [rule for rule in row_rules if rule.name in selected]
        for outcome in check_chunks(chosen, normalized.chunks(), spec.key_columns):
            yield outcome_result(outcome, key)

    return [row_checks]


def missing_evaluation(spec: SyncSpec, found: missing.MissingRows) -> dg.AssetCheckEvaluation:
    """Rows in the batch's scope that the batch did not see, as a check evaluation."""
    return dg.AssetCheckEvaluation(
        asset_key=FamilyKeys.of(spec).applied,
        check_name=MISSING_CHECK,
        passed=not found.found,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "missing_rows": dg.MetadataValue.int(len(found.rows)),
            "sample_keys": dg.MetadataValue.json(list(found.sample_keys)),
            "batch_id": dg.MetadataValue.int(found.batch_id),
            "policy": spec.missing,
            "scope": found.scope.describe() if found.scope else "whole table",
        },
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
        batch = missing.batch_of(plain_metadata(materialization.metadata))
        if batch is None:
            return dg.AssetCheckResult(passed=True, description="latest event carries no batch")
        with runner.target_engine(spec, target_db.url) as engine:
            ev = missing_evaluation(spec, missing.missing_rows(engine, spec, batch))
        return dg.AssetCheckResult(passed=ev.passed, severity=ev.severity, metadata=ev.metadata)

    return missing_rows
