"""The reference as an in-process test target: ``asgi:oauth_reference.demo.testing:build_app``.

The same app ``oauth-reference serve --test-mode`` serves (every feature on, the login and
consent page, the test hooks), on an in-memory store, built inside the harness's process.
"""

from __future__ import annotations

from typing import Any

from .. import testmode
from ..asgi import ASGIApp
from ..clock import OffsetClock
from ..config import options_from_mapping
from .app import build_reference

ALL_FEATURES: dict[str, Any] = {"allow_plain_pkce": False}


def build_app(auto_approve: str = "") -> ASGIApp:
    clock = OffsetClock()
    provider = build_reference(
        options_from_mapping(dict(ALL_FEATURES)), clock=clock, auto_approve=auto_approve in ("1", "true")
    )
    return testmode.install(provider, clock)
