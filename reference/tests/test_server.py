"""Serving: uvicorn's protocol is tuned only when its shape is the one the tuning relies on."""

from __future__ import annotations

import asyncio
import builtins
from typing import Any

import pytest

from oauth_reference.serving import server


def test_the_tuned_protocol_subclasses_uvicorns_when_its_shape_is_known() -> None:
    protocol = server.batched_protocol()
    assert isinstance(protocol, type) and issubclass(protocol, asyncio.Protocol)


def test_without_uvicorns_protocol_classes_the_stock_protocol_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_protocols(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("uvicorn.protocols.http."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_protocols)
    assert server.batched_protocol() == "auto"


@pytest.mark.parametrize(
    ("method", "accepted"),
    [
        (lambda self, transport: None, True),
        (lambda self, transport, extra=None: None, True),
        (lambda self: None, False),
        (lambda self, sock: None, False),
        (None, False),
    ],
)
def test_only_a_connection_made_self_transport_hook_is_tuned(method: object, accepted: bool) -> None:
    assert server._accepts_a_transport(method) is accepted
