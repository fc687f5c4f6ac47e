"""A throwaway ``redis-server`` on a free loopback port, for tests and benchmarks.

It runs Debian's ``redis-server`` binary (package ``redis-server``) as a child process::

    redis-server --port PORT --bind 127.0.0.1 --save "" --appendonly no --dir TMPDIR

waits until it answers ``PING`` (bounded), and is stopped by its PID (SIGTERM, then SIGKILL).
``appendonly=True`` keeps an append-only file with ``appendfsync always`` in its directory, so
:meth:`RedisServer.restart` brings the same data back: the fault benchmark kills and restarts
Redis in the middle of load and then audits what survived.

``python -m reference.bench.redis_server`` serves one until interrupted and prints its URL;
``python -m reference.bench.redis_server -- COMMAND ...`` runs COMMAND with the URL in
``OAUTH_TEST_REDIS_URL`` (the Redis tests then use that server) and stops Redis afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

HOST = "127.0.0.1"


class RedisUnavailable(RuntimeError):
    """``redis-server`` is not installed or did not come up."""


def binary() -> str | None:
    """Where ``redis-server`` is, or ``None`` (Debian puts it in ``/usr/bin``)."""
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.access(p, os.X_OK)), None
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def ping(port: int, timeout: float = 0.5) -> bool:
    """Whether a Redis on ``127.0.0.1:port`` answers ``PING`` now."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """A running ``redis-server`` child; :meth:`stop` it in a ``finally``."""

    port: int
    directory: Path
    appendonly: bool = False
    process: subprocess.Popen[bytes] | None = None
    _owned_dir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def db_url(self, db: int) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def _command(self, executable: str) -> list[str]:
        command = [executable, "--port", str(self.port), "--bind", HOST, "--save", ""]
        command += ["--dir", str(self.directory), "--daemonize", "no", "--protected-mode", "yes"]
        if self.appendonly:
            command += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            command += ["--appendonly", "no"]
        return command

    def launch(self, timeout: float = 10.0) -> None:
        """Start the server process and wait until it answers ``PING``."""
        executable = binary()
        if executable is None:
            raise RedisUnavailable("redis-server is not installed (Debian: apt-get install redis-server)")
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 (the child writes it; closed below)
        try:
            self.process = subprocess.Popen(
                self._command(executable), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.directory / "redis.log").read_text(errors="replace")[-500:]
                self.process = None
                raise RedisUnavailable(f"redis-server exited during startup: {tail.strip()}")
            if ping(self.port):
                return
            time.sleep(0.02)
        self.kill()
        raise RedisUnavailable(f"redis-server did not answer PING within {timeout:.0f}s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the server (a crash by default) and reap it."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections open but nothing answers, like a stalled host."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def restart(self, *, crash: bool = False) -> None:
        """Stop (SIGTERM, or SIGKILL with ``crash``) and start again on the same port and directory."""
        if self.process is not None:
            self.resume()
        self.kill(signal.SIGKILL if crash else signal.SIGTERM)
        self.launch()

    def stop(self) -> None:
        """Stop the server by its PID and remove its directory; safe to call twice."""
        try:
            if self.process is not None:
                self.resume()  # a paused process would not act on SIGTERM
            self.kill(signal.SIGTERM)
        finally:
            if self._owned_dir is not None:
                self._owned_dir.cleanup()
                self._owned_dir = None


@dataclass(frozen=True)
class External:
    """A Redis someone else started (``OAUTH_TEST_REDIS_URL``): used as is, never stopped."""

    url: str

    def db_url(self, db: int) -> str:
        base = self.url.rsplit("/", 1)[0] if self.url.count("/") > 2 else self.url
        return f"{base}/{db}"


def start(*, appendonly: bool = False, attempts: int = 5) -> RedisServer:
    """Start ``redis-server`` on a free loopback port (retrying if another process takes the port)."""
    if binary() is None:
        raise RedisUnavailable("redis-server is not installed (Debian: apt-get install redis-server)")
    last: RedisUnavailable | None = None
    for _ in range(attempts):
        owned = tempfile.TemporaryDirectory(prefix="oauth-redis-")
        server = RedisServer(free_port(), Path(owned.name), appendonly, _owned_dir=owned)
        try:
            server.launch()
        except RedisUnavailable as exc:
            server.stop()
            last = exc
            continue
        return server
    raise last or RedisUnavailable("redis-server did not start")


@contextlib.contextmanager
def running(*, appendonly: bool = False) -> Iterator[RedisServer]:
    server = start(appendonly=appendonly)
    try:
        yield server
    finally:
        server.stop()


ENV_URL = "OAUTH_TEST_REDIS_URL"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--"]:
        if len(args) < 2:
            print("usage: python -m reference.bench.redis_server [-- COMMAND ...]", file=sys.stderr)
            return 2
        with running() as server:
            print(f"redis-server {server.url} (pid {server.pid})", flush=True)
            return subprocess.call(args[1:], env={**os.environ, ENV_URL: server.url})
    # Block the signals first, so SIGTERM reaches sigwait and the finally stops the child.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    with running() as server:
        print(f"serving {server.url}", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
