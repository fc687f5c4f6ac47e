"""Fixtures the suites use. ``specs/conftest.py`` re-exports them, so they exist only where the
suites run and never leak into a user's own test session."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from . import http as http_module
from .clients import Clients
from .clock import Clock
from .clock import FreezeClock
from .clock import HeaderClock
from .clock import make_clock
from .drivers import Chromium
from .drivers import ConsentDriver
from .drivers import make_driver
from .evidence import Recorder
from .features import Feature
from .flows import OAuth
from .plugin import HARNESS_KEY
from .plugin import RECORDER_KEY
from .plugin import REQUIREMENTS_KEY
from .target import Target
from .verdicts import NotApplicable
from .verdicts import NotTested


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    harness = request.config.stash.get(HARNESS_KEY, None)
    if harness is None or harness.target is None:
        raise NotTested("no target: run with --oauth-target URL or through oauth-conformance run")
    return harness.target  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _applicability(request: pytest.FixtureRequest, target: Target) -> None:
    """A test whose requirements all concern a feature the target does not offer is not_applicable."""
    from .catalogue import registry

    ids = request.node.stash.get(REQUIREMENTS_KEY, None)
    if not ids:
        return
    features = [registry()[rid].applies_if for rid in ids if rid in registry()]
    if features and all(f is not None and not target.supports(f) for f in features):
        missing = features[0]
        assert missing is not None
        raise NotApplicable(f"the target does not offer {missing.description}")


@pytest.fixture
def recorder(request: pytest.FixtureRequest) -> Recorder:
    rec = Recorder()
    request.node.stash[RECORDER_KEY] = rec
    return rec


@pytest.fixture
def clock(target: Target, recorder: Recorder) -> Iterator[Clock]:
    with http_module.client(recorder, transport=target.transport()) as client:
        made = make_clock(target.profile, client, in_process=target.in_process)
        yield made
        if isinstance(made, FreezeClock):
            made.stop()


def _hooks(recorder: Recorder, clock: Clock) -> dict[str, list[Callable[..., None]]]:
    """Event hooks shared by the test's client and its consent driver."""

    def on_response(response: httpx.Response) -> None:
        response.read()
        recorder.add(response)

    request_hooks: list[Callable[..., None]] = [clock.apply] if isinstance(clock, HeaderClock) else []
    return {"request": request_hooks, "response": [on_response]}


@pytest.fixture
def http(target: Target, recorder: Recorder, clock: Clock) -> Iterator[httpx.Client]:
    """The test's HTTP client: no redirects followed, every exchange kept as evidence."""
    with http_module.client(transport=target.transport()) as client:
        client.event_hooks = _hooks(recorder, clock)
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
def driver(target: Target, recorder: Recorder, clock: Clock, consent_browser: Chromium | None) -> ConsentDriver:
    allowed = {_origin(target.url), _origin(target.issuer or target.url)}
    endpoint = target.endpoint("authorization_endpoint")
    if endpoint:
        allowed.add(_origin(endpoint))
    hooks = _hooks(recorder, clock)
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
    harness = request.config.stash.get(HARNESS_KEY, None)
    host = harness.fixture_host if harness is not None else None
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
def finding(recorder: Recorder) -> Callable[[str], None]:
    """Report something worth knowing that is not a verdict (a feature working but not advertised)."""
    return recorder.findings.append


def requires(target: Target, feature: Feature) -> None:
    if not target.supports(feature):
        raise NotApplicable(f"the target does not offer {feature.description}")
