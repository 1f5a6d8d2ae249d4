"""Run a command and measure it: wall time and the peak RSS of every process of its tree.

Linux only (/proc), no dependency. A background thread samples the tree every `interval_s`:
each descendant's `VmHWM` (its own high-water mark, so a peak between two samples is not lost;
only a process that starts and ends between two samples is). The launched process's own peak
comes exactly from `wait4`'s rusage once it exits.
"""

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


@dataclass(slots=True)
class Proc:
    pid: int
    name: str
    peak_rss_mb: float = 0.0


@dataclass(slots=True)
class TreeRun:
    returncode: int
    seconds: float
    procs: dict[int, Proc] = field(default_factory=dict)
    # wait4's ru_maxrss: the largest of the launcher and every descendant it reaped (exact,
    # but not attributed to one process)
    rusage_max_mb: float = 0.0
    started_at: float = 0.0  # epoch seconds, to place the run's own events inside the command

    def as_list(self) -> list[dict[str, Any]]:
        return [
            {"pid": p.pid, "name": p.name, "peak_rss_mb": round(p.peak_rss_mb, 1)}
            for p in sorted(self.procs.values(), key=lambda p: p.pid)
        ]

    @property
    def peak_rss_mb(self) -> float:
        """The largest single process (the tree's processes need not peak at the same time)."""
        return max([p.peak_rss_mb for p in self.procs.values()] + [self.rusage_max_mb])


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _descendants(root: int) -> list[int]:
    kids, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += kids.get(pid, [])
    return found


def _hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _name(pid: int) -> str:
    """The command line, shortened: program name plus its first arguments."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [os.path.basename(a.decode(errors="replace")) if i < 2 else a.decode() for i, a in
             enumerate(argv) if a]  # fmt: skip
    return " ".join(words)[:120]


def run_tree(
    argv: list[str], *, env: dict[str, str], cwd: Path, log: IO[str], interval_s: float = 0.05
) -> TreeRun:
    """Run `argv` to completion (output to `log`), sampling its process tree."""
    procs: dict[int, Proc] = {}
    stop = threading.Event()
    started_at, start = time.time(), time.perf_counter()
    child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=log)

    def sample() -> None:
        while True:
            for pid in _descendants(child.pid):
                hwm = _hwm_mb(pid)
                if hwm is None:
                    continue
                if pid not in procs:
                    procs[pid] = Proc(pid, _name(pid))
                procs[pid].peak_rss_mb = max(procs[pid].peak_rss_mb, hwm)
            if stop.wait(interval_s):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    sampler.join()
    procs.setdefault(child.pid, Proc(child.pid, " ".join(argv[:3])))
    return TreeRun(child.returncode, seconds, procs, usage.ru_maxrss / 1024, started_at)
