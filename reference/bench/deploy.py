"""Reference processes on a shared store, and the load generator run against them.

A :class:`Deployment` is one or more ``oauth-reference serve --auto-approve`` processes on one
store URL, all on loopback and stopped by PID. They stand behind the first one's origin: the
load generator sends requests to any of them with that origin's ``Host`` (as a load balancer
would), so a token issued by one is for the resource every one serves.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oauth_reference.serving.process import Served
from oauth_reference.serving.process import start
from reference.bench import redis_server


def serve_args(store_url: str) -> list[str]:
    return ["--store", store_url, "--auto-approve", "--no-access-log"]


@contextlib.contextmanager
def _stderr_to(log: Path | None) -> Iterator[None]:
    """Children started inside inherit ``log`` as their stderr (``process.start`` has no option)."""
    if log is None:
        yield
        return
    saved = os.dup(2)
    try:
        with open(log, "ab") as out:
            os.dup2(out.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _start(store_url: str, extra: Sequence[str], log: Path | None) -> Served:
    if log is None:
        return start([*serve_args(store_url), *extra])
    quiet = os.environ.get("OAUTH_REFERENCE_QUIET")
    os.environ["OAUTH_REFERENCE_QUIET"] = "0"  # process.start reads it from our environment
    try:
        with _stderr_to(log):
            return start([*serve_args(store_url), *extra])
    finally:
        if quiet is None:
            del os.environ["OAUTH_REFERENCE_QUIET"]
        else:
            os.environ["OAUTH_REFERENCE_QUIET"] = quiet


@dataclass
class Deployment:
    store_url: str
    servers: list[Served]
    log: Path | None = None  # the processes' stderr (warnings and tracebacks), when kept

    @property
    def target(self) -> str:
        return self.servers[0].url

    @property
    def via(self) -> list[str]:
        return [s.url for s in self.servers] if len(self.servers) > 1 else []

    def kill(self, index: int) -> None:
        """SIGKILL one process (a crash, mid-request, mid-write)."""
        server = self.servers[index]
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(10)

    def restart(self, index: int) -> None:
        """Start a fresh process on the port of process ``index`` (after :meth:`kill`)."""
        old = self.servers[index]
        old.stop()
        port = urlsplit(old.url).port
        self.servers[index] = _start(self.store_url, ["--port", str(port)], self.log)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@contextlib.contextmanager
def deployed(store_url: str, processes: int, *, log: Path | None = None) -> Iterator[Deployment]:
    """``processes`` reference processes on ``store_url``; every one stopped at the end.

    With ``log``, their stderr goes to that file (warnings and tracebacks; no access log).
    """
    deployment = Deployment(store_url, [], log)
    try:
        for _ in range(processes):
            deployment.servers.append(_start(store_url, (), log))
        yield deployment
    finally:
        deployment.stop()


@dataclass
class LoadProcess:
    """``python -m reference.bench.load`` running in a child process."""

    process: subprocess.Popen[bytes]
    directory: Path
    duration: float

    def wait_started(self, timeout: float = 120.0) -> float:
        """Wait until the generator's setup is done and timing starts; returns that time."""
        deadline = time.monotonic() + timeout
        log = self.directory / "stderr.txt"
        while time.monotonic() < deadline:
            if log.exists() and "load: timing starts" in log.read_text(errors="replace"):
                return time.time()
            if self.process.poll() is not None:
                raise RuntimeError(f"the load generator exited early: {self.stderr()}")
            time.sleep(0.05)
        raise RuntimeError("the load generator did not start timing")

    def stderr(self) -> str:
        log = self.directory / "stderr.txt"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def wait(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The result and the ledger, once it is done (bounded: duration plus setup time)."""
        try:
            code = self.process.wait(self.duration + 300)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise RuntimeError("the load generator overran its bound") from None
        if code != 0:
            raise RuntimeError(f"the load generator failed ({code}): {self.stderr()}")
        result = json.loads((self.directory / "result.json").read_text())
        ledger = json.loads((self.directory / "ledger.json").read_text())
        return result, ledger

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def start_load(
    directory: Path,
    target: str,
    via: Sequence[str],
    scenario: str,
    *,
    concurrency: int,
    duration: float,
    timeout: float = 10.0,
    extra: Sequence[str] = (),
) -> LoadProcess:
    directory.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "reference.bench.load", target, "--scenario", scenario]
    command += ["--concurrency", str(concurrency), "--duration", str(duration), "--timeout", str(timeout)]
    command += [f"--via={url}" for url in via]
    command += ["--json", str(directory / "result.json"), "--ledger", str(directory / "ledger.json"), *extra]
    with open(directory / "stderr.txt", "wb") as err, open(directory / "stdout.txt", "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    return LoadProcess(process, directory, duration)


def run_load(
    target: str, via: Sequence[str], scenario: str, *, concurrency: int, duration: float, **kwargs: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One load run in a child process; its result and ledger."""
    with tempfile.TemporaryDirectory(prefix="oauth-load-") as tmp:
        load = start_load(Path(tmp), target, via, scenario, concurrency=concurrency, duration=duration, **kwargs)
        try:
            return load.wait()
        finally:
            load.stop()


def merge_ledgers(ledgers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One ledger for several runs (each run registers clients of its own)."""
    merged: dict[str, Any] = {"schema_version": 1, "clients": {}, "grants": {}}
    for ledger in ledgers:
        merged["clients"].update(ledger.get("clients", {}))
        merged["grants"].update(ledger.get("grants", {}))
    return merged


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    redis_version = ""
    binary = redis_server.binary()
    if binary:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
        redis_version = out.stdout.split(" v=")[1].split()[0] if " v=" in out.stdout else out.stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "redis_server": redis_version,
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
