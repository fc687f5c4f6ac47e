"""The issuer is the operator's, never the Host header's (issue 15, item 4; RFC 8414 section 3.3).

Outside test mode the provider answers only the hosts it was told about: the fixed ``issuer``,
``allowed_hosts``, the hosts of options given as full URLs, and, when neither ``issuer`` nor
``allowed_hosts`` is set, loopback hosts (the development default). Any other Host is refused
before a handler sees it, and no metadata ever names it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oauth_reference import ConfigurationError
from oauth_reference.hosts import HostPolicy
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.serving import testmode
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import bare_provider
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of
from reference.tests.conftest import tagged_app

pytestmark = pytest.mark.anyio

WELL_KNOWN = "/.well-known/oauth-authorization-server"
PRM = "/.well-known/oauth-protected-resource"
FORGED = "evil.example"


async def _with_host(http: httpx.AsyncClient, path: str, host: str, **kwargs: Any) -> httpx.Response:
    return await http.get(f"{ORIGIN}{path}", headers={"Host": host}, **kwargs)


@pytest.mark.parametrize("path", [WELL_KNOWN, PRM, "/api/whoami", "/authorize", "/anything"])
async def test_a_forged_host_is_refused_everywhere_by_default(make_env: EnvFactory, path: str) -> None:
    env = make_env({"default_handler": tagged_app("default")}, bare=True)
    response = await _with_host(env.http, path, FORGED)
    assert response.status_code == 400
    assert FORGED not in response.text
    assert "tag" not in response.text  # the application never saw it


async def test_a_forged_host_never_reaches_the_metadata_even_with_a_fixed_issuer(make_env: EnvFactory) -> None:
    env = make_env({"issuer": "https://as.example.com"}, bare=True)
    assert (await _with_host(env.http, WELL_KNOWN, FORGED)).status_code == 400
    served = await _with_host(env.http, WELL_KNOWN, "as.example.com")
    assert served.json()["issuer"] == "https://as.example.com"


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:5173", "[::1]:8443", "127.0.0.9"])
async def test_loopback_hosts_are_served_with_their_own_issuer_by_default(make_env: EnvFactory, host: str) -> None:
    env = make_env(bare=True)
    meta = (await _with_host(env.http, WELL_KNOWN, host)).json()
    assert meta["issuer"] == f"http://{host}"
    assert meta["token_endpoint"] == f"http://{host}/oauth/token"


async def test_allowed_hosts_are_served_and_loopback_then_is_not(make_env: EnvFactory) -> None:
    env = make_env({"allowed_hosts": ["as.example.com", "as.example.net:8443"]}, bare=True)
    assert (await _with_host(env.http, WELL_KNOWN, "as.example.com")).json()["issuer"] == "http://as.example.com"
    assert (await _with_host(env.http, WELL_KNOWN, "as.example.net:8443")).json()[
        "issuer"
    ] == "http://as.example.net:8443"
    for refused in ("127.0.0.1:8000", "as.example.net", "as.example.com:8080", "sub.as.example.com", FORGED):
        assert (await _with_host(env.http, WELL_KNOWN, refused)).status_code == 400, refused


async def test_an_allowed_origin_fixes_the_scheme_as_behind_a_tls_proxy(make_env: EnvFactory) -> None:
    env = make_env({"allowed_hosts": ["https://as.example.com"]}, bare=True)
    # The proxy ended TLS: the request reaches the application over plain http.
    meta = (await _with_host(env.http, WELL_KNOWN, "as.example.com")).json()
    assert meta["issuer"] == "https://as.example.com"
    assert meta["token_endpoint"] == "https://as.example.com/oauth/token"


async def test_the_authorization_response_names_the_vetted_issuer(make_env: EnvFactory) -> None:
    env = make_env({"allowed_hosts": ["https://as.example.com", "127.0.0.1:8000"]}, bare=True)
    client = await env.register()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": "http://127.0.0.1:9/cb",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
    }
    response = await env.http.get("http://as.example.com/authorize", params=query)
    assert query_of(response.headers["location"])["iss"] == ["https://as.example.com"]


async def test_parse_auth_request_refuses_a_url_on_a_host_not_served(make_env: EnvFactory) -> None:
    from oauth_reference import AuthorizationError

    env = make_env(bare=True)
    with pytest.raises(AuthorizationError) as refused:
        await env.provider.helpers.parse_auth_request(f"https://{FORGED}/authorize?client_id=x")
    assert refused.value.redirect_to is None


async def test_hosts_of_full_url_options_are_served(make_env: EnvFactory) -> None:
    env = make_env({"api_route": ["/api/", "https://api.example.com/"], "default_handler": tagged_app("d")}, bare=True)
    response = await env.http.get("https://api.example.com/v1/x")
    assert response.status_code == 401  # the API route's bearer check, not a refusal
    assert (await _with_host(env.http, "/x", "localhost:8000")).status_code == 200  # loopback still served


async def test_a_malformed_host_header_is_a_400(make_env: EnvFactory) -> None:
    env = make_env(bare=True)
    for host in ("a b", "a/b", "user@127.0.0.1", ""):
        assert (await _with_host(env.http, WELL_KNOWN, host)).status_code == 400, host


async def test_test_mode_keeps_the_issuer_of_any_host() -> None:
    """The harness's test mode (loopback only) answers any name, issuer from the request, as the seed does."""
    clock = OffsetClock()
    app = testmode.install(bare_provider(clock=clock), clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inprocess.test") as http:
        assert (await http.get(WELL_KNOWN)).json()["issuer"] == "http://inprocess.test"


@pytest.mark.parametrize(
    ("allowed", "message"),
    [
        ("as.example.com", "list"),
        ([], "non-empty"),
        (["https://as.example.com/path"], "origin"),
        (["as.example.com/x"], "host"),
        (["*.example.com"], "host"),
        (["user@as.example.com"], "host"),
        ([3], "host"),
    ],
)
def test_malformed_allowed_hosts_are_configuration_errors(allowed: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        bare_provider(allowed_hosts=allowed)


def test_the_policy_ignores_default_ports_and_letter_case() -> None:
    policy = HostPolicy.build(issuer=None, allowed=["As.Example.com"], urls=[], loopback=False)
    assert policy.origin("https", "AS.EXAMPLE.COM:443") == "https://as.example.com"
    assert policy.origin("http", "as.example.com:80") == "http://as.example.com"
    assert policy.origin("https", "as.example.com:80") is None


async def test_the_test_clients_host_is_served_by_the_development_default() -> None:
    """``testserver``, the host Starlette's and FastAPI's TestClient send."""
    cases: list[tuple[dict[str, Any], int]] = [({}, 200), ({"allowed_hosts": ["auth.example.com"]}, 400)]
    for options, status in cases:
        app = bare_provider(**options)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            assert (await http.get(WELL_KNOWN)).status_code == status, options


def test_decisions_are_remembered_within_bounds() -> None:
    policy = HostPolicy.build(issuer=None, allowed=None, urls=[], loopback=True)
    for n in range(1000):
        assert policy.origin("http", f"h{n}.example") is None
    assert len(policy._decided) <= 256
    assert policy.origin("http", "localhost:1") == "http://localhost:1"
