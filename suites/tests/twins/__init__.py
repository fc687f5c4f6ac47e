"""Known-bad twins: the reference with one behaviour broken, to prove each check can fail.

A twin names the suites to run against it and the exact set of MUST requirement ids that must
fail; it may also name SHOULD ids that must warn (at least those). A twin that breaks nothing
(``fails`` empty) is a control: it proves a layer the other twins break is itself correct.
``serve.py NAME`` serves the twin; :func:`start` does it from a test (in a process forked from a
fork server that has imported ``serve.py``, rather than in a fresh interpreter). A twin declared with
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
import multiprocessing
import os
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path

from oauth_reference import Clock
from oauth_reference import OAuthHelpers
from oauth_reference.faults import NO_FAULTS
from oauth_reference.faults import Faults
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.storage import Storage
from oauth_reference.serving.process import ServeError

FIXTURE_HOST_ENV = "TWIN_FIXTURE_HOST"  # JSON: fixture_host.describe() of the host the twin trusts


Options = dict[str, object] | Callable[[dict[str, object]], dict[str, object]]
StorageFactory = Callable[[str, Clock], Storage]  # (SQLite file path, clock) -> the store to serve
Patch = Callable[[ASGIApp], ASGIApp]  # a twin's breakage: the reference's served app -> the app to serve
Register = Callable[[Patch], Patch]  # what twin() returns: a decorator that registers the patch as it is


@dataclass(frozen=True)
class Twin:
    name: str
    specs: tuple[str, ...]
    fails: frozenset[str]
    patch: Patch
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
) -> Register:
    def register(patch: Patch) -> Patch:
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


# The twin modules load_all imports (metadata first: its twins were registered first).
MODULES = (
    "metadata",
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
    "steps",
)


def load_all() -> dict[str, Twin]:
    for module in MODULES:
        try:
            __import__(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
    return REGISTRY


@dataclass
class ForkedTwin:
    """A twin served by a child of the fork server (see :func:`start`); ``stop()`` ends it."""

    url: str
    process: BaseProcess
    announce: Connection  # the child's stdout (kept open while it runs, as a served process's is)
    log: Path | None = None  # the child's stderr, when asked for

    def log_tail(self, limit: int = 4000) -> str:
        """The end of what the twin logged (tracebacks of its 500s), for a failure message."""
        if self.log is None or not self.log.exists():
            return ""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return text[-limit:]

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        try:
            if self.process.is_alive():
                self.process.terminate()  # SIGTERM: uvicorn shuts down as `oauth-reference serve` does
                self.process.join(timeout)
                if self.process.is_alive():
                    self.process.kill()
                    self.process.join(timeout)
        finally:
            self.announce.close()


_FORK_SERVER_STARTED: list[bool] = []  # this process has started the fork server (with the preloads)


def _fork_server() -> ForkServerContext:
    """The ``forkserver`` context whose server has imported serve.py and every twin module.

    Starting a twin as ``python serve.py NAME`` costs a fresh interpreter and its imports (about a
    second of CPU, most of a registration twin's time). The fork server pays that once per test
    process; each twin is then a child forked from a process that has imported the modules and
    done nothing else: no app built, no store, no event loop, no thread. The twin's child builds
    its own provider on its own store, in its own process, as ``serve.py`` does.
    """
    context = multiprocessing.get_context("forkserver")
    from multiprocessing import forkserver

    if not _FORK_SERVER_STARTED:
        _FORK_SERVER_STARTED.append(True)
        context.set_forkserver_preload([f"{__name__}.serve", *(f"{__name__}.{m}" for m in MODULES)])
        # The fork server imports the preloads with the environment's path (3.11 does not pass it
        # sys.path): the repository root, for suites.tests.
        root = str(Path(__file__).resolve().parents[3])
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, saved) if p)
        try:
            forkserver.ensure_running()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
    return context


def start(name: str, timeout: float = 30.0, env: dict[str, str] | None = None, log: Path | None = None) -> ForkedTwin:
    """Serve the twin on a free loopback port in test mode; stop it with ``.stop()``. ``env`` adds
    environment variables (``TWIN_FIXTURE_HOST`` for twins with every feature on); ``log`` is a
    file for what the twin writes to stderr (else it is dropped).

    The twin runs ``serve.py``'s ``main`` in a process of its own, forked from the fork server
    (:func:`_fork_server`) with this process's environment, rather than in a fresh interpreter."""
    from suites.tests.twins.serve import forked

    context = _fork_server()
    reader, writer = context.Pipe(duplex=False)
    environment = {**os.environ, **(env or {})}
    args = (name, environment, writer, str(log) if log else None)
    process = context.Process(target=forked, args=args, name=f"twin {name}", daemon=True)
    process.start()
    writer.close()
    try:
        url = _announced(reader, process, timeout)
    except ServeError:
        process.kill()
        process.join()
        reader.close()
        raise
    return ForkedTwin(url, process, reader, log)


def _announced(reader: Connection, process: BaseProcess, timeout: float) -> str:
    """The URL of the child's ``serving <URL>`` line, waited for (bounded) as ``process.wait_for_url`` does."""
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline:
        if not process.is_alive():
            raise ServeError(f"the twin exited with status {process.exitcode} before serving")
        ready, _, _ = select.select([reader.fileno()], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(reader.fileno(), 4096)
        buffer += chunk
        for line in buffer.decode(errors="replace").splitlines():
            if line.startswith("serving "):
                return line.removeprefix("serving ").strip()
        if not chunk:
            raise ServeError("the twin closed its output before serving")
    raise ServeError(f"the twin did not print 'serving <URL>' within {timeout:.0f}s")
