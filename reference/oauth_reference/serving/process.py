"""Run ``oauth-reference serve`` in a child process: for the harness's embedded run and for tests.

The child binds a free loopback port and prints ``serving <URL>``; the parent waits for that line
(bounded), and stops the child by its PID with SIGTERM (then SIGKILL if it lingers).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass


class ServeError(RuntimeError):
    """The reference did not start."""


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()


def start(args: Sequence[str] = (), *, timeout: float = 30.0, env: dict[str, str] | None = None) -> Served:
    """Start ``oauth-reference serve --host 127.0.0.1 --port 0 ARGS`` and wait until it serves."""
    command = [
        sys.executable,
        "-m",
        "oauth_reference.serving.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *args,
    ]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if os.environ.get("OAUTH_REFERENCE_QUIET", "1") == "1" else None,
        env={**os.environ, **(env or {})},
    )
    return wait_for_url(process, timeout)


def wait_for_url(process: subprocess.Popen[bytes], timeout: float = 30.0) -> Served:
    """Wait (bounded) for a child that prints ``serving <URL>``; kill it if it never does."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            process.stdout.close()
            raise ServeError(f"the server exited with status {process.returncode} before serving")
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(process.stdout.fileno(), 4096)
        buffer += chunk
        for line in buffer.decode(errors="replace").splitlines():
            if line.startswith("serving "):
                return Served(line.removeprefix("serving ").strip(), process)
    process.kill()
    process.wait()
    process.stdout.close()
    raise ServeError(f"the server did not print 'serving <URL>' within {timeout:.0f}s")


@contextlib.contextmanager
def served(args: Sequence[str] = (), **kwargs: float) -> Iterator[Served]:
    server = start(args, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
