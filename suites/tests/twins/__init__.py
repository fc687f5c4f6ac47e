"""Known-bad twins: the reference with one behaviour broken, to prove each check can fail.

A twin names the suites to run against it and the exact set of MUST requirement ids that must
fail; it may also name SHOULD ids that must warn (at least those). A twin that breaks nothing
(``fails`` empty) is a control: it proves a layer the other twins break is itself correct.
``serve.py NAME`` serves the twin; :func:`start` does it from a test. A twin declared with
``features=True`` runs the reference with every feature on (token exchange, ID-JAG, metadata
documents), trusting the fixture host described in ``$TWIN_FIXTURE_HOST`` (its IdP and its CA),
as the embedded default of ``oauth-conformance run`` does. A twin declared with ``host`` is served
on that address instead of 127.0.0.1 (a plain-http target the profile's loopback allowance does not
cover, for the TLS requirements).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.serving.process import Served
from oauth_reference.serving.process import ServeError

SERVE = Path(__file__).with_name("serve.py")
FIXTURE_HOST_ENV = "TWIN_FIXTURE_HOST"  # JSON: fixture_host.describe() of the host the twin trusts


@dataclass(frozen=True)
class Twin:
    name: str
    specs: tuple[str, ...]
    fails: frozenset[str]
    patch: Callable[[ASGIApp], ASGIApp]
    options: tuple[tuple[str, object], ...] = ()
    note: str = ""
    warns: frozenset[str] = frozenset()
    features: bool = False  # every feature on, trusting the test run's fixture host (see serve.py)
    host: str = "127.0.0.1"  # the address serve.py binds


REGISTRY: dict[str, Twin] = {}


def twin(
    name: str,
    specs: tuple[str, ...],
    fails: set[str],
    *,
    options: dict[str, object] | None = None,
    note: str = "",
    warns: set[str] | None = None,
    features: bool = False,
    host: str = "127.0.0.1",
) -> Callable[[Callable[[ASGIApp], ASGIApp]], Callable[[ASGIApp], ASGIApp]]:
    def register(patch: Callable[[ASGIApp], ASGIApp]) -> Callable[[ASGIApp], ASGIApp]:
        if name in REGISTRY:
            raise ValueError(f"twin {name} is defined twice")
        REGISTRY[name] = Twin(
            name, specs, frozenset(fails), patch, tuple((options or {}).items()), note, frozenset(warns or ())
        )
        if features:
            REGISTRY[name] = dataclasses.replace(REGISTRY[name], features=True)
        if host != "127.0.0.1":
            REGISTRY[name] = dataclasses.replace(REGISTRY[name], host=host)
        return patch

    return register


def load_all() -> dict[str, Twin]:
    from suites.tests.twins import metadata  # noqa: F401  (registers its twins)

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
        "tls",
        "introspection",
        "dpop",
        "par",
        "current_texts",
    ):
        try:
            __import__(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
    return REGISTRY


def start(name: str, timeout: float = 30.0, env: dict[str, str] | None = None) -> Served:
    """Serve the twin on a free loopback port in test mode; stop it with ``.stop()``. ``env`` adds
    environment variables (``TWIN_FIXTURE_HOST`` for twins with every feature on)."""
    from oauth_reference.serving import process

    command = [sys.executable, str(SERVE), name]
    environment = {**os.environ, **env} if env else None
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment)
    try:
        return process.wait_for_url(proc, timeout)
    except ServeError:
        proc.kill()
        proc.wait()
        raise
