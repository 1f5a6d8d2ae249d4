"""The one error a rejected mutation batch raises."""

from typing import TYPE_CHECKING, Literal, get_args

from sync_pipeline.engine.errors import SyncError

if TYPE_CHECKING:
    from sync_pipeline.engine.mutations.operations import Operation

Step = Literal[
    "parse", "check", "before_all", "load", "validate", "pre_apply", "apply", "post_apply"
]
STEPS: tuple[str, ...] = get_args(Step)


class WriteRejected(SyncError):
    """The whole client transaction was rejected at `step`; nothing was written.

    `index` is the failing operation's position (None for `parse`), `operation` the parsed
    Operation (None for `parse`), `message` the reason, safe to return to the client.
    """

    stage = "mutations"

    def __init__(
        self, step: Step, index: int | None, operation: "Operation | None", message: str
    ) -> None:
        self.step = step
        self.index = index
        self.operation = operation
        self.message = message
        where = "" if index is None else f" at operation {index}"
        what = "" if operation is None else f" ({operation.operation} on {operation.relation!r})"
        super().__init__(f"transaction rejected in step {step!r}{where}{what}: {message}")
