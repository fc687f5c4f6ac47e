"""The suites' pytest fixtures: the target, a test's HTTP client and evidence recorder, its
consent driver, clients, clock and the fixture host. They live here, in the suites' own conftest,
so they exist only where the suites run and never leak into a user's own test session."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_conformance import http as http_module
from oauth_conformance.drivers import Chromium
from oauth_conformance.drivers import ConsentDriver
from oauth_conformance.drivers import make_driver
from oauth_conformance.evidence import Recorder
from oauth_conformance.features import Feature
from oauth_conformance.plugin import RECORDER_KEY
from oauth_conformance.plugin import REQUIREMENTS_KEY
from oauth_conformance.plugin import RUN_KEY
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.pages import PageLog
from oauth_conformance.support.probes import probe
from oauth_conformance.support.probes import probe_on_demand
from oauth_conformance.target import Target
from oauth_conformance.time_travel import FreezeClock
from oauth_conformance.time_travel import HeaderClock
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.time_travel import make_clock
from oauth_conformance.verdicts import NotApplicable
from oauth_conformance.verdicts import NotTested

TLS_UNLOCK = "an https:// target URL (serve the target over TLS)"


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    run = request.config.stash.get(RUN_KEY, None)
    if run is None or run.target is None:
        raise NotTested("no target: run with --oauth-target URL or through oauth-conformance run")
    return run.target


@pytest.fixture(autouse=True)
def _applicability(request: pytest.FixtureRequest, target: Target) -> None:
    """A test whose requirements all concern a feature the target does not offer is not_applicable.

    Offered means advertised or seen: before the first test of the process, the features the
    metadata leaves out are tried once (``support/probes.py``), so that leaving a grant out of the
    metadata never switches its requirements off.
    """
    from oauth_conformance.catalogue import SPECS
    from oauth_conformance.catalogue import registry

    ids = request.node.stash.get(REQUIREMENTS_KEY, None)
    if not ids:
        return
    if not target.probed.ran:
        probe(target, request.getfixturevalue("oauth"), request.getfixturevalue("clients"))
    run = request.config.stash.get(RUN_KEY, None)
    if run is not None:
        versions = run.versions
        present = [rid for rid in ids if rid in registry() and registry()[rid].at(versions[rid.split("-")[0]])]
        if not present:
            spec = SPECS[ids[0].split("-")[0]]
            raise NotApplicable(
                f"not in {spec.edition(versions[spec.token]).document}, the version this run tests"
                f" (--spec-version {spec.token}=VERSION tests another)"
            )
        ids = present
    features = [registry()[rid].applies_if for rid in ids if rid in registry()]
    probe_on_demand(
        target,
        {f for f in features if f is not None},
        lambda: request.getfixturevalue("oauth"),
        lambda: request.getfixturevalue("clients"),
    )
    if features and all(f is not None and not target.supports(f) for f in features):
        missing = features[0]
        assert missing is not None
        if all(f == Feature.TLS for f in features):
            # A loopback target served over plain http has not shown whether it keeps the TLS rules:
            # they were not exercised, which is not the same as not applying.
            raise NotTested(
                "the target is served over plain http on loopback: TLS was not exercised", unlock=TLS_UNLOCK
            )
        raise NotApplicable(f"the target does not offer {missing.description}")


@pytest.fixture
def recorder(request: pytest.FixtureRequest) -> Recorder:
    rec = Recorder()
    request.node.stash[RECORDER_KEY] = rec
    return rec


@pytest.fixture
def clock(target: Target, recorder: Recorder) -> Iterator[TargetClock]:
    with http_module.client(recorder, transport=target.transport()) as client:
        made = make_clock(target.profile, client, in_process=target.in_process)
        yield made
        if isinstance(made, FreezeClock):
            made.stop()


@pytest.fixture
def pages() -> PageLog:
    """The HTML pages this test's clients and consent driver received, whole (for checks of what a
    page shows; never written to a report)."""
    return PageLog()


def _hooks(recorder: Recorder, clock: TargetClock, pages: PageLog) -> dict[str, list[Callable[..., None]]]:
    """Event hooks shared by the test's client and its consent driver."""

    def on_response(response: httpx.Response) -> None:
        response.read()
        recorder.add(response)
        pages.add(response)

    request_hooks: list[Callable[..., None]] = [clock.apply] if isinstance(clock, HeaderClock) else []
    return {"request": request_hooks, "response": [on_response]}


@pytest.fixture
def http(target: Target, recorder: Recorder, clock: TargetClock, pages: PageLog) -> Iterator[httpx.Client]:
    """The test's HTTP client: no redirects followed, every exchange kept as evidence."""
    with http_module.client(transport=target.transport()) as client:
        client.event_hooks = _hooks(recorder, clock, pages)
        yield client


@pytest.fixture(scope="session")
def consent_browser(target: Target) -> Iterator[Chromium | None]:
    """The run's one Chromium for the browser driver (launched when first needed), else None."""
    if target.profile.consent.driver != "browser":
        yield None
        return
    chromium = Chromium(target.profile.consent.browser.executable)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def driver(
    target: Target, recorder: Recorder, clock: TargetClock, pages: PageLog, consent_browser: Chromium | None
) -> ConsentDriver:
    allowed = {_origin(target.url), _origin(target.issuer or target.url)}
    endpoint = target.endpoint("authorization_endpoint")
    if endpoint:
        allowed.add(_origin(endpoint))
    hooks = _hooks(recorder, clock, pages)
    return make_driver(target.profile, allowed, hooks, target.transport(), chromium=consent_browser)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@pytest.fixture
def clients(target: Target, http: httpx.Client, request: pytest.FixtureRequest) -> Clients:
    return Clients(target, http, request.node.name)


@pytest.fixture
def oauth(target: Target, http: httpx.Client, driver: ConsentDriver) -> OAuth:
    return OAuth(target, http, driver)


@pytest.fixture(scope="session")
def fixture_host(request: pytest.FixtureRequest, target: Target) -> Any:
    """The harness's fixture host (documents, the test IdP's keys), if the target can reach it."""
    run = request.config.stash.get(RUN_KEY, None)
    host = run.fixture_host if run is not None else None
    if host is None:
        raise NotTested("the fixture host is disabled", unlock="[fixture_host] enabled")
    reachable = target.profile.fixture_host.reachable
    if reachable is None:
        reachable = target.in_process or target.is_loopback_http
    if not reachable:
        raise NotTested(
            "the target cannot reach the harness's fixture host on loopback",
            unlock="[fixture_host] public_base_url (or reachable = true)",
        )
    return host


@pytest.fixture
def note(recorder: Recorder) -> Callable[[str], None]:
    """Report something worth knowing that is not a verdict (a feature working but not advertised).
    A way the test fails is flagged with ``recorder.flag`` instead (a finding, findings.py)."""
    return recorder.notes.append
