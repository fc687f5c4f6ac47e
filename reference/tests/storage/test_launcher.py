"""The redis-server launcher: started on a free loopback port, stopped by PID; CI never skips."""

from __future__ import annotations

import os
import socket

import pytest

from reference.bench import redis_server
from reference.tests.storage.conftest import require_redis


def test_missing_redis_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_server, "binary", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the Redis tests"):
        require_redis()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        require_redis()
    with pytest.raises(redis_server.RedisUnavailable, match="not installed"):
        redis_server.start()


@pytest.mark.redis
def test_the_launcher_serves_on_loopback_and_stops_by_pid() -> None:
    require_redis()
    server = redis_server.start()
    try:
        pid = server.pid
        assert pid is not None
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert redis_server.ping(server.port)
        directory = server.directory
    finally:
        server.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not directory.exists()
    server.stop()  # twice is harmless


@pytest.mark.redis
def test_an_append_only_redis_keeps_its_data_across_a_crash() -> None:
    require_redis()
    with redis_server.running(appendonly=True) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
            sock.sendall(b"SET k v\r\n")
            assert sock.recv(16).startswith(b"+OK")
        server.restart(crash=True)
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
            sock.sendall(b"GET k\r\n")
            assert sock.recv(16) == b"$1\r\nv\r\n"
