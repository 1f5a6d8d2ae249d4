"""Frozen results of an import."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Counts of one import into one table, the batch id it stamped and the Postgres txid.

    `errors` lists (record, reason) for records skipped with on_error="skip_record".
    """

    table: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    deleted: int = 0
    missing: int = 0
    errors: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    batch_id: int | None = None
    txid: int | None = None
    events: int = 0  # change events recorded (events=True)

    @property
    def seen(self) -> int:
        """Records that matched or created a row in this batch."""
        return self.created + self.updated + self.unchanged + self.skipped + self.deleted

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
