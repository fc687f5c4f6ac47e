"""Processes of a benchmarked server, read from ``/proc`` (Linux): its tree, CPU time and peak RSS,
and pinning every thread of it to a core (what ``taskset -a -p`` does)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (which may hold spaces): state is [0]."""
    raw = (PROC / str(pid) / "stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()


def parent_of(pid: int) -> int | None:
    try:
        return int(_stat_fields(pid)[1])
    except (OSError, ValueError, IndexError):
        return None


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            parent = parent_of(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def command_name(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident set size (``VmHWM``) in MiB; None once it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process (all its threads) so far."""
    try:
        fields = _stat_fields(pid)
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


class CpuMeter:
    """CPU used by some processes between two marks, in cores (1.0: one core kept busy)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self._marks: dict[str, tuple[float, float]] = {}

    def mark(self, name: str) -> None:
        self._marks[name] = (time.monotonic(), sum(cpu_seconds(p) for p in self.pids))

    def cores(self) -> float | None:
        if "begin" not in self._marks or "end" not in self._marks:
            return None
        (t0, c0), (t1, c1) = self._marks["begin"], self._marks["end"]
        return round((c1 - c0) / (t1 - t0), 2) if t1 > t0 else None


def pin_tree(pid: int, cpus: set[int]) -> None:
    """Pin every thread of ``pid`` and of its descendants to ``cpus``."""
    for process in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            for task in (PROC / str(process) / "task").iterdir():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(task.name), cpus)


@contextlib.contextmanager
def pinned(cpu: int | None) -> Iterator[None]:
    """Run the block on ``cpu`` alone (None: leave as is); processes started inside inherit it."""
    if cpu is None:
        yield
        return
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


@contextlib.contextmanager
def paused(pids: list[int]) -> Iterator[None]:
    """Stop these processes and their trees (SIGSTOP) for the block, then let them go on (SIGCONT).

    The servers share one core: a server that is not being measured still runs its timers and
    its runtime's background work (V8's collector, workerd's threads), which would be charged to
    whichever server is measured. Pausing the others keeps each measurement to its own server.
    """
    stopped: list[int] = []
    try:
        for pid in pids:
            for member in (pid, *descendants(pid)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(member, signal.SIGSTOP)
                    stopped.append(member)
        yield
    finally:
        for member in reversed(stopped):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(member, signal.SIGCONT)
