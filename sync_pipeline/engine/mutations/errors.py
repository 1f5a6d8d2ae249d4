"""The one error a rejected mutation batch raises."""

from typing import TYPE_CHECKING, Literal, get_args

from sync_pipeline.errors import SyncError

if TYPE_CHECKING:
    from sync_pipeline.engine.mutations.operations import Operation

Step = Literal[
    "parse", "check", "before_all", "load", "validate", "pre_apply", "apply", "post_apply"
]
STEPS: tuple[str, ...] = get_args(Step)
MAX_MESSAGE = 1000  # messages may quote client input; never echo a huge payload back


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
        self.message = (
            message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."
        )
        where = "" if index is None else f" at operation {index}"
        what = (
            "" if operation is None else f" ({operation.operation} on {operation.relation!r:.100})"
        )
        super().__init__(f"transaction rejected in step {step!r}{where}{what}: {self.message}")
