"""Diff rules (`max_changed_fraction`, `max_missing_fraction`) judge the diff of a whole batch.

A planned diff is judged at once (the `diff` asset, `sync-pipeline plan`). A batch applied as a
stream is judged from its totals, so no step holds the batch for them: the engine hands each
chunk's diff to `DiffJudge.guard`, which adds up the counts and keeps a few keys, and the
import's result to `DiffJudge.before_commit`, which judges the totals before the transaction
commits. A failed rule raises `RuleError`, and the whole import rolls back.
"""

import itertools
from dataclasses import dataclass, field

from sync_pipeline.engine.diff import BatchDiff, Effect
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.errors import RuleError
from sync_pipeline.syncs.rules import SAMPLE_SIZE, RuleOutcome, describe
from sync_pipeline.syncs.spec import Rule, SyncSpec

EFFECTS: tuple[Effect, ...] = ("changed", "missing")  # the effects diff rules count


@dataclass(slots=True)
class DiffTotals:
    """What diff rules see of a batch's diff: its counts, and up to SAMPLE_SIZE keys per effect."""

    changed: int = 0
    total: int = 0
    unchanged: int = 0
    skipped: int = 0
    missing: int = 0
    samples: dict[str, list[str]] = field(default_factory=lambda: {e: [] for e in EFFECTS})

    @classmethod
    def of(cls, diff: BatchDiff) -> "DiffTotals":
        totals = cls()
        totals.add(diff)
        return totals

    def add(self, diff: BatchDiff) -> None:
        """Count one diff in: the whole batch's, or one chunk's of a stream."""
        self.changed += diff.changed
        self.total += diff.total
        self.unchanged += diff.unchanged
        self.skipped += diff.skipped
        self.missing += diff.missing
        for effect in EFFECTS:
            count = getattr(diff, effect)
            room = SAMPLE_SIZE - len(self.samples[effect])
            if count and room > 0:
                keys = (repr(e.key) for e in diff.entries(effect=effect))
                self.samples[effect] += itertools.islice(keys, room)


def check_diff(rule: Rule, totals: DiffTotals) -> RuleOutcome:
    """One diff rule: guards against surprising change/delete ratios."""
    if rule.kind == "max_changed_fraction":
        bad, base, effect = totals.changed, totals.total, "changed"
    else:
        bad, effect = totals.missing, "missing"
        base = totals.changed + totals.unchanged + totals.skipped + totals.missing
    fraction = bad / base if base else 0.0
    passed = fraction <= float(rule.fraction or 0.0)
    detail = f"{bad} of {base} rows {effect} ({fraction:.1%}, limit {rule.fraction:.1%})"
    failures, shown = (0, ()) if passed else (bad, tuple(totals.samples[effect]))
    return RuleOutcome(rule.name, passed, failures, shown, detail, wording=describe(rule))


def outcomes(spec: SyncSpec, diff: BatchDiff) -> list[RuleOutcome]:
    """Every diff rule of `spec` on one planned diff (no rules: nothing is counted)."""
    if not spec.diff_rules:
        return []
    totals = DiffTotals.of(diff)
    return [check_diff(rule, totals) for rule in spec.diff_rules]


class DiffJudge:
    """The engine's guard and before_commit for a sync with diff rules (see the module)."""

    def __init__(self, spec: SyncSpec) -> None:
        self.spec = spec
        self.totals = DiffTotals()

    def guard(self, diff: BatchDiff) -> None:
        self.totals.add(diff)

    def before_commit(self, result: ImportResult) -> None:
        self.totals.missing = result.missing  # a stream knows its missing rows only at the end
        judged = (check_diff(rule, self.totals) for rule in self.spec.diff_rules)
        failed = [o for o in judged if not o.passed]
        if failed:
            raise RuleError(
                f"{len(failed)} diff rule(s) failed, nothing written: "
                + ", ".join(f"{o.rule} ({o.detail})" for o in failed)
            )
