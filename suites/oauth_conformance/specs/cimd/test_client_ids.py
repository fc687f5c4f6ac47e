"""CIMD sections 3 and 6.5: client_id URLs refused without being fetched (URL rules) or without
being reached (special-use addresses). Each test first shows that a valid document works."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from oauth_conformance import requirement
from oauth_conformance.support.metadata_documents import DocumentAttempt
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.support.metadata_documents import assert_stopped
from oauth_conformance.trust.canary import CanaryUnavailable
from oauth_conformance.trust.canary import as_decimal
from oauth_conformance.trust.canary import canary
from oauth_conformance.verdicts import not_tested

LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")


def _url_variants(url: str) -> dict[str, tuple[str, list[str]]]:
    """Each broken client_id, with the paths on the fixture host a fetch of it would hit."""
    parts = urlsplit(url)
    path = parts.path
    head, _, tail = path.rpartition("/")
    dotted = f"{head}/oauth-conformance/../{tail}"
    return {
        "http": (url.replace("https://", "http://", 1), [path]),
        "no-path": (f"{parts.scheme}://{parts.netloc}", ["/", ""]),
        "dot-segment": (f"{parts.scheme}://{parts.netloc}{dotted}", [dotted, path]),
        "fragment": (url + "#oauth-conformance", [path]),
        "userinfo": (f"{parts.scheme}://oauth:conformance@{parts.netloc}{path}", [path]),
    }


def unobservable_when_proxied(documents: Documents) -> None:
    """Under a platform that sends every fetch to the fixture host ([fixture_host] proxied), a refusal
    could be the host's 404 and a hit the proxy's doing: the address checks cannot be seen."""
    if documents.target.profile.fixture_host.proxied:
        not_tested(
            "the target's outbound fetches are routed to the fixture host whatever the address"
            " ([fixture_host] proxied), so its special-use address checks cannot be observed"
        )


@requirement("CIMD-3-URL-RULES")
@pytest.mark.parametrize("variant", ["http", "no-path", "dot-segment", "fragment", "userinfo"])
def test_a_client_id_url_breaking_the_url_rules_is_refused_unfetched(proven_documents: Documents, variant: str) -> None:
    client_id, paths = _url_variants(proven_documents.url())[variant]
    before = {p: proven_documents.hits(p) for p in paths}
    attempt = proven_documents.attempt(proven_documents.client(client_id))
    assert_stopped(attempt, f"a client_id with a {variant} problem")
    fetched = [p for p in paths if proven_documents.hits(p) > before[p]]
    assert not fetched, f"the target fetched {fetched} for a client_id it must refuse before fetching"


@requirement("CIMD-6.5-SSRF-CLIENT-ID")
@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1", "[fd00::1]", "[::ffff:10.0.0.1]"],
)
def test_a_client_id_on_a_special_use_address_is_refused_promptly(proven_documents: Documents, host: str) -> None:
    unobservable_when_proxied(proven_documents)
    client_id = f"https://{host}/oauth-conformance/client.json"
    attempt = proven_documents.attempt(proven_documents.client(client_id))
    assert_stopped(attempt, f"a client_id on {host}")
    assert attempt.seconds < 5, f"refusing a client_id on {host} took {attempt.seconds:.1f}s (was it fetched?)"


@requirement("CIMD-6.5-SSRF-CLIENT-ID")
def test_a_client_id_on_the_unspecified_address_is_refused_unfetched(proven_documents: Documents) -> None:
    # 0.0.0.0 is not a loopback address, yet connecting to it reaches this machine: when the fixture
    # host runs next to the target, a target that fails to refuse it fetches from the host, which
    # logs the hit (its certificate names 0.0.0.0, so the fetch would complete).
    unobservable_when_proxied(proven_documents)
    url = proven_documents.url()
    parts = urlsplit(url)
    client_id = f"https://0.0.0.0:{parts.port or 443}{parts.path}"
    attempt = proven_documents.attempt(proven_documents.client(client_id))
    assert proven_documents.hits(url) == 0, "the target fetched a client_id on 0.0.0.0 (it reached the fixture host)"
    assert_stopped(attempt, "a client_id on 0.0.0.0")


@requirement("CIMD-6.5-SSRF-CLIENT-ID")
@pytest.mark.parametrize("form", ["loopback", "ipv4-mapped", "decimal"])
def test_a_client_id_on_another_loopback_address_is_refused_without_a_connection(
    proven_documents: Documents, form: str
) -> None:
    # CIMD section 6.5 lets a server on a loopback address fetch from that same address only. The
    # canary listens on another loopback address, so a connection there is seen, not inferred.
    unobservable_when_proxied(proven_documents)
    host = urlsplit(proven_documents.target.url).hostname or ""
    if host not in LOOPBACK_NAMES and not host.startswith("127."):
        not_tested(f"the target runs on {host}, not on this machine's loopback: it cannot reach a canary here")
    try:
        with canary(host) as listener:
            named = {
                "loopback": listener.address,
                "ipv4-mapped": f"[::ffff:{listener.address}]",
                "decimal": as_decimal(listener.address),
            }[form]
            client_id = f"{listener.url(named)}/oauth-conformance/client.json"
            attempt: DocumentAttempt = proven_documents.attempt(proven_documents.client(client_id))
            seen = listener.connections()
    except CanaryUnavailable as exc:
        not_tested(f"no canary listener: {exc}")
    assert seen == 0, (
        f"the target connected to {listener.address}:{listener.port} ({seen} connection(s)) for client_id"
        f" {client_id}: a loopback address that is not its own"
    )
    assert_stopped(attempt, f"a client_id on {named}")
