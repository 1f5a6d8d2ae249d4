"""Where the memory goes: sample the process RSS and the main thread's stack during an operation.

Used with `--profile`: every 10 ms a background thread reads VmRSS and notes which function of
the project (the innermost `sync_pipeline`/`benchmarks` frame on the main thread's stack) is
running. The report lists, per such function, the highest RSS seen while it ran, so a peak can
be pinned to the step that caused it (Arrow buffers are invisible to tracemalloc; RSS is not).
"""

import sys
import threading
import time
from types import FrameType, TracebackType

FOCUS = ("/sync_pipeline/", "/benchmarks/")


def status_mb(key: str) -> float | None:
    """A /proc/self/status memory field (VmRSS, VmHWM) in MB, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class RssSampler:
    def __init__(self, interval_s: float = 0.01) -> None:
        self.interval_s = interval_s
        self.sites: dict[str, tuple[float, float]] = {}  # site -> (max RSS MB, first seen at s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        main = threading.main_thread().ident
        start = time.perf_counter()
        while not self._stop.wait(self.interval_s):
            rss = status_mb("VmRSS") or 0.0
            frame = sys._current_frames().get(main) if main is not None else None
            site = _site(frame)
            best, first = self.sites.get(site, (0.0, time.perf_counter() - start))
            self.sites[site] = (max(best, rss), first)

    def report(self, top: int = 20) -> str:
        rows = sorted(self.sites.items(), key=lambda kv: -kv[1][0])[:top]
        lines = ["RSS samples: highest RSS (MB) seen while each project function ran", ""]
        lines += [f"{rss:8.0f} MB  first at {at:6.2f} s  {site}" for site, (rss, at) in rows]
        return "\n".join(lines) + "\n"


def _site(frame: FrameType | None) -> str:
    """'path:function:line' of the innermost project frame, plus the innermost frame itself."""
    innermost = frame
    while frame is not None and not any(f in frame.f_code.co_filename for f in FOCUS):
        frame = frame.f_back
    if frame is None:
        return "(outside project code)"
    name = frame.f_code.co_filename.rsplit("/", 2)
    here = f"{'/'.join(name[-2:])}:{frame.f_code.co_name}:{frame.f_lineno}"
    if innermost is not None and innermost is not frame:
        here += f"  <- in {innermost.f_code.co_name}"
    return here
