"""Known-bad twins: the reference with one behaviour broken, to prove each check can fail.

A twin names the suites to run against it and the exact set of MUST requirement ids that must
fail; it may also name SHOULD ids that must warn (at least those). A twin that breaks nothing
(``fails`` empty) is a control: it proves a layer the other twins break is itself correct.
``serve.py NAME`` serves the twin; :func:`start` does it from a test. A twin declared with
``features=True`` runs the reference with every feature on (token exchange, ID-JAG, metadata
documents), trusting the fixture host described in ``$TWIN_FIXTURE_HOST`` (its IdP and its CA),
as the embedded default of ``oauth-conformance run`` does. A twin declared with ``host`` is served
on that address instead of 127.0.0.1 (a plain-http target the profile's loopback allowance does not
cover, for the TLS requirements). A twin declared with ``inconclusive=True`` must end the run
INCONCLUSIVE (exit 5): it hides the target's core from the harness, and nothing may fail.

The rule: a twin breaks the reference only through its public seams, so that a rename inside the
reference cannot break a twin (``test_twin_seams.py`` enforces it):

1. the wire: ASGI middleware around the served app that rewrites requests before the reference
   sees them and responses after (``wire.py``, ``rewrite.py``);
2. public API: options (``options=``), callbacks and storage passed in (``storage=``, a subclass of
   a storage class: the ``Storage`` protocol is public), the provider's helpers (:func:`helpers`),
   and the demo's auto-approve mode (``auto_approve=True``);
3. the faults seam: ``faults=`` names faults of :data:`oauth_reference.faults.FAULTS` (switches, or
   hooks that wrap one named step), for the behaviours nothing outside can reach.

A twin imports from ``oauth_reference`` only the package's public names, ``oauth_reference.faults``,
the ASGI types a middleware needs (``oauth_reference.machinery.asgi``) and the storage classes
(``oauth_reference.machinery.storage``, ``...storage.sqlite``). It never assigns to, ``setattr``s,
patches or reads a private name of an ``oauth_reference`` module or class.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oauth_reference import Clock
from oauth_reference import OAuthHelpers
from oauth_reference.faults import NO_FAULTS
from oauth_reference.faults import Faults
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.storage import Storage
from oauth_reference.serving.process import Served
from oauth_reference.serving.process import ServeError

SERVE = Path(__file__).with_name("serve.py")
FIXTURE_HOST_ENV = "TWIN_FIXTURE_HOST"  # JSON: fixture_host.describe() of the host the twin trusts


Options = dict[str, object] | Callable[[dict[str, object]], dict[str, object]]
StorageFactory = Callable[[str, Clock], Storage]  # (SQLite file path, clock) -> the store to serve


@dataclass(frozen=True)
class Twin:
    name: str
    specs: tuple[str, ...]
    fails: frozenset[str]
    patch: Callable[[ASGIApp], ASGIApp]
    options: Options = dataclasses.field(default_factory=dict)  # or base options -> options over them
    note: str = ""
    warns: frozenset[str] = frozenset()
    features: bool = False  # every feature on, trusting the test run's fixture host (see serve.py)
    host: str = "127.0.0.1"  # the address serve.py binds
    faults: Faults = NO_FAULTS  # oauth_reference.faults: what nothing outside can break
    storage: StorageFactory | None = None  # the store the reference is served with (SQLite by default)
    auto_approve: bool = False  # the demo approves every valid request at once, for a test user
    inconclusive: bool = False  # the run must end INCONCLUSIVE (exit 5) rather than PASSED

    @property
    def exit_status(self) -> int:
        if self.fails:
            return 1
        return 5 if self.inconclusive else 0


REGISTRY: dict[str, Twin] = {}


def twin(
    name: str,
    specs: tuple[str, ...],
    fails: set[str],
    *,
    options: Options | None = None,
    note: str = "",
    warns: set[str] | None = None,
    features: bool = False,
    host: str = "127.0.0.1",
    faults: set[str] | dict[str, Callable[..., object]] | None = None,
    storage: StorageFactory | None = None,
    auto_approve: bool = False,
    inconclusive: bool = False,
) -> Callable[[Callable[[ASGIApp], ASGIApp]], Callable[[ASGIApp], ASGIApp]]:
    def register(patch: Callable[[ASGIApp], ASGIApp]) -> Callable[[ASGIApp], ASGIApp]:
        if name in REGISTRY:
            raise ValueError(f"twin {name} is defined twice")
        REGISTRY[name] = Twin(
            name,
            specs,
            frozenset(fails),
            patch,
            options if options is not None else {},
            note,
            frozenset(warns or ()),
            features,
            host,
            Faults(faults or ()),
            storage,
            auto_approve,
            inconclusive,
        )
        return patch

    return register


_SERVED: list[OAuthHelpers] = []


def serving(helpers: OAuthHelpers) -> None:
    """serve.py: the helpers of the provider the twin wraps (before it calls the twin's patch)."""
    _SERVED[:] = [helpers]


def helpers() -> OAuthHelpers:
    """The served provider's helpers (public API: what an application's handlers get)."""
    if not _SERVED:
        raise RuntimeError("no twin is being served in this process (serve.py sets it)")
    return _SERVED[0]


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
        "controls",
        "races",
        "holes",
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
