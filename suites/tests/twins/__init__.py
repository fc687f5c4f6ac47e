"""Known-bad twins: the reference with one behaviour broken, to prove each check can fail.

A twin names the suites to run against it and the exact set of MUST requirement ids that must
fail. ``serve.py NAME`` serves the twin; :func:`start` does it from a test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oauth_reference.asgi import ASGIApp
from oauth_reference.process import Served
from oauth_reference.process import ServeError

SERVE = Path(__file__).with_name("serve.py")


@dataclass(frozen=True)
class Twin:
    name: str
    specs: tuple[str, ...]
    fails: frozenset[str]
    patch: Callable[[ASGIApp], ASGIApp]
    options: tuple[tuple[str, object], ...] = ()
    note: str = ""


REGISTRY: dict[str, Twin] = {}


def twin(
    name: str, specs: tuple[str, ...], fails: set[str], *, options: dict[str, object] | None = None, note: str = ""
) -> Callable[[Callable[[ASGIApp], ASGIApp]], Callable[[ASGIApp], ASGIApp]]:
    def register(patch: Callable[[ASGIApp], ASGIApp]) -> Callable[[ASGIApp], ASGIApp]:
        if name in REGISTRY:
            raise ValueError(f"twin {name} is defined twice")
        REGISTRY[name] = Twin(name, specs, frozenset(fails), patch, tuple((options or {}).items()), note)
        return patch

    return register


def load_all() -> dict[str, Twin]:
    from . import metadata  # noqa: F401  (registers its twins)

    for module in (
        "core",
        "pkce",
        "registration",
        "bearer",
        "revocation",
        "resource",
        "issuer",
        "extensions",
        "robust",
    ):
        try:
            __import__(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
    return REGISTRY


def start(name: str, timeout: float = 30.0) -> Served:
    """Serve the twin on a free loopback port in test mode; stop it with ``.stop()``."""
    from oauth_reference import process

    command = [sys.executable, str(SERVE), name]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        return process.wait_for_url(proc, timeout)
    except ServeError:
        proc.kill()
        proc.wait()
        raise
