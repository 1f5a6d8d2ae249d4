"""Progress callables for the `progress=` option: a tqdm bar per phase, on stderr."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from tqdm import tqdm


class TqdmProgress:
    """`progress(done, total, phase)` drawing one tqdm bar per phase (rows, rows/s, ETA)."""

    def __init__(self, file: TextIO | None = None, disable: bool | None = None) -> None:
        self.file = file
        self.disable = disable  # None: tqdm draws only on a terminal
        self.bars: dict[str, Any] = {}

    def __call__(self, done: int, total: int | None, phase: str) -> None:
        bar = self.bars.get(phase)
        if bar is None:
            bar = tqdm(
                total=total,
                desc=phase,
                unit=" rows",
                file=self.file,
                disable=self.disable,
                leave=True,
                dynamic_ncols=True,
            )
            self.bars[phase] = bar
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def close(self) -> None:
        """Finish every bar (call once the import returned or failed)."""
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


@contextmanager
def tqdm_progress(
    file: TextIO | None = None, disable: bool | None = None
) -> Iterator[TqdmProgress]:
    """`with tqdm_progress() as progress: import_records(..., progress=progress)`."""
    progress = TqdmProgress(file=file, disable=disable)
    try:
        yield progress
    finally:
        progress.close()
