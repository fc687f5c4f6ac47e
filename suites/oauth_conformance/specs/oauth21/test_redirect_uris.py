"""OAuth 2.1 sections 2.3, 2.3.1, 4.1.1, 4.1.2.1 and 8.4.2: which redirect URIs the server sends codes to.

The exact-match tests generate the variants of a registered URI that real servers have accepted
(prefix and suffix changes, path traversal, userinfo and ``@``, case, percent-encoding, an added
query or fragment, another port, another scheme) and assert that the user agent is never sent to
one of them, not before the login and not after it.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from oauth_conformance import requirement
from oauth_conformance.evidence import Recorder
from oauth_conformance.support.attempts import Undecided
from oauth_conformance.support.attempts import attempt
from oauth_conformance.support.attempts import destination
from oauth_conformance.support.attempts import escaped
from oauth_conformance.support.attempts import is_loopback
from oauth_conformance.support.attempts import require_code
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_tested

HTTPS_REDIRECT = "https://app.oauth-conformance.example/oauth/callback"
ATTACKER = "attacker.oauth-conformance.example"
MAX_EXAMPLES = 40


# --------------------------------------------------------------------------------- strategies
# Each variant belongs to a class, the kind of change exact matching must catch; a class that gets
# through is one finding (findings.py), named by the class, so a server that starts accepting a
# new kind of variant shows a new finding even when the requirement was failing already.
Variant = tuple[str, str]  # (class, redirect URI)


def _parts(registered: str) -> tuple[str, str, str, str, str, str]:
    parts = urlsplit(registered)
    netloc = parts.netloc
    host, _, port = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
    return parts.scheme, netloc, parts.path or "/", parts.query, host, port


def _uri(registered: str, *, s: str | None = None, n: str | None = None, p: str | None = None) -> str:
    scheme, netloc, path, query, _, _ = _parts(registered)
    rest = f"?{query}" if query else ""
    return f"{s or scheme}://{n or netloc}{path if p is None else p}{rest}"


TRAVERSAL_SUFFIXES = ["/..", "/../", "/%2e%2e/", "%2F..%2F", "..;/", "/./", "/."]
OTHER_SUFFIXES = ["/", "//", ";x", "%00", "%20", "~"]


def redirect_variants(registered: str) -> st.SearchStrategy[Variant]:
    """(class, URI) pairs: strings that differ from ``registered`` in the ways exact matching must catch."""
    scheme, netloc, path, query, host, port = _parts(registered)
    suffix_text = st.text(alphabet=string.ascii_letters + string.digits + "-._~", min_size=1, max_size=6)
    q = f"?{query}" if query else ""

    def uri(s: str = scheme, n: str = netloc, p: str = path, rest: str = q) -> str:
        return f"{s}://{n}{p}{rest}"

    def of(kind: str, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Variant]:
        return strategy.map(lambda u: (kind, u))

    path_suffixes = st.one_of(st.sampled_from(OTHER_SUFFIXES), suffix_text, suffix_text.map(lambda t: "/" + t))
    traversals = st.one_of(st.sampled_from(TRAVERSAL_SUFFIXES), suffix_text.map(lambda t: "/../" + t))
    strategies: list[st.SearchStrategy[Variant]] = [
        of("path-suffix", path_suffixes.map(lambda x: uri(p=path + x))),
        of("path-traversal", traversals.map(lambda x: uri(p=path + x))),
        of("path-truncated", st.integers(1, max(1, len(path) - 1)).map(lambda k: uri(p=path[:-k] or "/"))),
        of(
            "other-host",
            st.sampled_from([f"{host}.{ATTACKER}", f"{ATTACKER}", f"{host}{ATTACKER}", f"{ATTACKER}.{host}"]).map(
                lambda h: uri(n=h + (f":{port}" if port else ""))
            ),
        ),
        of(
            "userinfo",
            st.sampled_from(
                [
                    f"{netloc}@{ATTACKER}",
                    f"{ATTACKER}@{netloc}",
                    f"{netloc}%40{ATTACKER}",
                    f"{netloc}\\@{ATTACKER}",
                    f"user:pass@{netloc}",
                ]
            ).map(lambda n: uri(n=n)),
        ),
        of("added-query-parameter", suffix_text.map(lambda t: registered + ("&" if query else "?") + f"{t}=1")),
        of("empty-query", st.just(registered + ("&" if query else "?"))),
        of("fragment", suffix_text.map(lambda t: registered + "#" + t)),
        of("other-scheme", st.just(uri(s="https" if scheme == "http" else "http"))),
        of("scheme-relative", st.just(f"//{netloc}{path}{q}")),
    ]
    letters = [i for i, ch in enumerate(registered) if ch.isalpha()]
    if letters:
        strategies.append(
            of(
                "case-changed",
                st.sampled_from(letters).map(lambda i: registered[:i] + registered[i].swapcase() + registered[i + 1 :]),
            )
        )
    path_start = len(f"{scheme}://{netloc}")
    encodable = list(range(path_start, path_start + len(path)))
    if encodable:
        strategies.append(
            of(
                "percent-encoded",
                st.tuples(st.sampled_from(encodable), st.booleans()).map(
                    lambda ib: _percent_encode_at(registered, ib[0], lower=ib[1])
                ),
            )
        )
    if is_loopback(registered):
        # Another port alone is allowed for loopback (section 8.4.2); combined with any other
        # change it is not.
        strategies.append(
            of(
                "loopback-port-and-path",
                st.tuples(st.integers(1024, 65535), path_suffixes).map(
                    lambda t: uri(n=f"{host}:{t[0]}", p=path + t[1])
                ),
            )
        )
    else:
        strategies.append(
            of("other-port", st.integers(1, 65535).filter(lambda n: str(n) != port).map(lambda n: uri(n=f"{host}:{n}")))
        )
    return st.one_of(strategies).filter(lambda v: v[1] != registered)


def representatives(registered: str) -> list[Variant]:
    """Plain variants of every class, tried before the generated ones: each class is put to the
    test in every run, so whether it shows as a finding does not hang on what was generated."""
    scheme, netloc, path, query, host, port = _parts(registered)
    join = "&" if query else "?"
    found: list[Variant] = [
        ("path-suffix", _uri(registered, p=path + "/x")),
        ("path-traversal", _uri(registered, p=path + "/../x")),
        ("path-traversal", _uri(registered, p=path + "/.")),
        ("path-truncated", _uri(registered, p=path[:-1] or "/")),
        ("other-host", _uri(registered, n=f"{ATTACKER}" + (f":{port}" if port else ""))),
        ("userinfo", _uri(registered, n=f"{netloc}@{ATTACKER}")),
        ("userinfo", _uri(registered, n=f"user:pass@{netloc}")),
        ("added-query-parameter", f"{registered}{join}x=1"),
        ("empty-query", f"{registered}{join}"),
        ("fragment", f"{registered}#x"),
        ("other-scheme", _uri(registered, s="https" if scheme == "http" else "http")),
        ("scheme-relative", f"//{netloc}{path}" + (f"?{query}" if query else "")),
        ("case-changed", _uri(registered, s=scheme.upper())),
    ]
    if host.lower() != host.upper():
        found.append(("case-changed", _uri(registered, n=netloc.upper())))
    path_letter = next((i for i, ch in enumerate(path) if ch.isalpha()), None)
    if path_letter is not None:
        found.append(("case-changed", _uri(registered, p=path[:path_letter] + path[path_letter:].capitalize())))
    if len(path) > 1:
        found.append(("percent-encoded", _percent_encode_at(registered, len(f"{scheme}://{netloc}") + 1, lower=False)))
    if is_loopback(registered):
        found.append(("loopback-port-and-path", _uri(registered, n=f"{host}:53124", p=path + "/x")))
    else:
        found.append(("other-port", _uri(registered, n=f"{host}:{8443 if port != '8443' else 9443}")))
    return [(kind, u) for kind, u in found if u != registered]


def _percent_encode_at(uri: str, index: int, *, lower: bool) -> str:
    encoded = f"%{ord(uri[index]):02X}"
    return uri[:index] + (encoded.lower() if lower else encoded) + uri[index + 1 :]


def _hypothesis_settings(target: Target) -> Callable[[Callable[..., None]], Callable[..., None]]:
    robust = target.profile.robust
    # A MUST check: it keeps its own count, less only when the profile itself asks for fewer
    # examples (the quick run's smaller fuzzing budget is not a reason to try fewer variants).
    chosen = robust.max_examples if "max_examples" in robust.chosen else MAX_EXAMPLES
    return settings(
        max_examples=max(1, min(chosen, MAX_EXAMPLES)),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# ---------------------------------------------------------------------------------- exact match
@requirement("OAUTH21-2.3.1-EXACT-MATCH")
@pytest.mark.parametrize("kind", ["https", "loopback"])
def test_no_variant_of_the_registered_redirect_uri_is_ever_redirected_to(
    oauth: OAuth,
    clients: Clients,
    http: httpx.Client,
    target: Target,
    note: Callable[[str], None],
    recorder: Recorder,
    kind: str,
) -> None:
    if kind == "https":
        client = clients.public(redirect_uris=[HTTPS_REDIRECT])  # registered, or a profile client that has it
    else:
        client = clients.public()
        if not is_loopback(client.redirect_uri):
            not_tested("the profile's redirect URI is not a loopback URI", unlock="[request] redirect_uri")
    oauth.front_channel_works(client)  # the control: the registered redirect URI itself gets a code
    registered = list(client.redirect_uris or (client.redirect_uri,))
    undecided: list[str] = []
    unlocks: list[str] = []
    decided: list[str] = []
    escapes: dict[str, str] = {}  # variant class -> the first variant of it that got through
    _, challenge = pkce_pair()

    def try_variant(variant_class: str, variant: str) -> None:
        url, _ = oauth.authorization_url(
            client, redirect_uri=variant, code_challenge=challenge, code_challenge_method="S256"
        )
        mark = recorder.count
        try:
            went = destination(oauth, http, url, variant)
        except Undecided as exc:
            undecided.append(f"{variant}: {exc}")
            unlocks.append(exc.unlock)
            return
        decided.append(variant)
        why = None if went is None else escaped(went, registered)
        if why is not None and variant_class not in escapes:
            escapes[variant_class] = f"redirect_uri={variant!r} (registered: {client.redirect_uri}): {why} ({went})"
            recorder.flag(variant_class, f"{variant_class}: {escapes[variant_class]}", recorder.since(mark))

    for variant_class, variant in representatives(client.redirect_uri):
        try_variant(variant_class, variant)

    @_hypothesis_settings(target)
    @given(case=redirect_variants(client.redirect_uri))
    def explore(case: Variant) -> None:
        if case[0] not in escapes:  # a class that got through once is a finding already
            try_variant(*case)

    explore()
    if not decided:
        not_tested(
            f"the harness could not follow any of the requests to its end, e.g. {undecided[0]}", unlock=unlocks[0]
        )
    if undecided:
        note(f"{len(undecided)} redirect URI variants could not be followed to their end, e.g. {undecided[0]}")
    assert not escapes, f"{len(escapes)} kind(s) of variant got through: " + "; ".join(
        f"{k}: {v}" for k, v in escapes.items()
    )


# ------------------------------------------------------------------------------- loopback ports
def _loopback_client(clients: Clients, host: str) -> Client:
    """A public client registered as the native app section 8.4.2 speaks of: servers that tell app
    kinds apart (OpenID Connect's ``application_type``) grant the port exception to native apps only,
    and RFC 7591 section 2 has every other server ignore the member. A server that refuses it gets
    the registration without it."""
    uri = f"http://{host}:8976/oauth-conformance/callback"
    try:
        return clients.public(redirect_uris=[uri], application_type="native")
    except NotTested:  # refused, or a profile client (whose entry cannot say it is native)
        return clients.public(redirect_uris=[uri])


@requirement("OAUTH21-8.4.2-LOOPBACK-PORT")
@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_a_loopback_redirect_uri_is_accepted_with_any_port(oauth: OAuth, clients: Clients, host: str) -> None:
    client = _loopback_client(clients, host)
    other_port = f"http://{host}:53124/oauth-conformance/callback"
    result = attempt(oauth, client, redirect_uri=other_port)
    require_code(oauth, client, result, f"redirect_uri={other_port} (registered on port 8976)")


@requirement("OAUTH21-4.1.1-LOCALHOST-PORT")
def test_a_localhost_redirect_uri_is_accepted_with_any_port(oauth: OAuth, clients: Clients) -> None:
    client = _loopback_client(clients, "localhost")
    other_port = "http://localhost:53124/oauth-conformance/callback"
    result = attempt(oauth, client, redirect_uri=other_port)
    require_code(oauth, client, result, f"redirect_uri={other_port} (registered on port 8976)")


# ------------------------------------------------------------------------------------ section 2.3
@requirement("OAUTH21-2.3-QUERY")
def test_the_registered_query_component_is_kept(oauth: OAuth, clients: Clients) -> None:
    base = clients.redirect_uri.split("?", 1)[0]
    registered = f"{base}?tenant=oauth-conformance&x=1"
    client = clients.public(redirect_uris=[registered])
    if client.redirect_uri != registered:
        raise PrerequisiteFailed(f"the client was registered with {client.redirect_uri}, not {registered}")
    authorization = oauth.code(client, redirect_uri=registered)
    assert authorization.callback is not None
    query = authorization.callback.query
    assert query.get("tenant") == ["oauth-conformance"] and query.get("x") == ["1"], (
        f"the registered query tenant=oauth-conformance&x=1 is not in {authorization.callback.location}"
    )


# -------------------------------------------------------------------------------- section 4.1.2.1
def _evil_redirect() -> str:
    return f"https://{ATTACKER}/callback"


@requirement("OAUTH21-4.1.2.1-NO-REDIRECT")
def test_an_unknown_client_is_not_redirected(
    oauth: OAuth, clients: Clients, http: httpx.Client, target: Target
) -> None:
    oauth.front_channel_works(clients.public())  # the control: a known client's request does come back
    unknown = Client(client_id="oauth-conformance-unknown-client", auth_method="none", redirect_uri=_evil_redirect())
    _, challenge = pkce_pair()
    url, _ = oauth.authorization_url(unknown, code_challenge=challenge, code_challenge_method="S256")
    try:
        went = destination(oauth, http, url, _evil_redirect())
    except Undecided as exc:
        not_tested(f"the harness could not follow the request to its end: {exc}", unlock=exc.unlock)
    assert went is None, f"a request from an unknown client_id sent the user agent to {went}"


@requirement("OAUTH21-4.1.2.1-NO-REDIRECT")
def test_an_unregistered_redirect_uri_is_not_redirected_to(oauth: OAuth, clients: Clients, http: httpx.Client) -> None:
    client = clients.public()
    oauth.front_channel_works(client)  # the control: with its registered redirect_uri, a code comes back
    _, challenge = pkce_pair()
    url, _ = oauth.authorization_url(
        client, redirect_uri=_evil_redirect(), code_challenge=challenge, code_challenge_method="S256"
    )
    try:
        went = destination(oauth, http, url, _evil_redirect())
    except Undecided as exc:
        not_tested(f"the harness could not follow the request to its end: {exc}", unlock=exc.unlock)
    why = None if went is None else escaped(went, [client.redirect_uri])
    assert why is None, f"for an unregistered redirect_uri {why} ({went})"


@requirement("OAUTH21-4.1.2.1-NO-REDIRECT")
def test_a_missing_redirect_uri_with_several_registered_is_not_guessed(
    oauth: OAuth, clients: Clients, http: httpx.Client
) -> None:
    first = clients.redirect_uri
    second = first.split("?", 1)[0].rstrip("/") + "/second"
    client = clients.public_with_redirect_uris([first, second])
    if len(client.redirect_uris) < 2:
        not_tested(f"needs a client registered with two redirect URIs; it has {list(client.redirect_uris)}")
    first = client.redirect_uris[0]
    oauth.front_channel_works(client)  # the control: naming its first redirect_uri, a code comes back
    _, challenge = pkce_pair()
    url, _ = oauth.authorization_url(client, redirect_uri=None, code_challenge=challenge, code_challenge_method="S256")
    try:
        went = destination(oauth, http, url, first)
    except Undecided as exc:
        not_tested(f"the harness could not follow the request to its end: {exc}", unlock=exc.unlock)
    assert went is None, f"without redirect_uri (two registered) the user agent was sent to {went}"


# --------------------------------------------------------------------- section 8.1 (draft -15)
@requirement("OAUTH21-8.1-NATIVE-NO-SECRET")
def test_a_native_app_completes_the_flow_without_a_secret(oauth: OAuth, clients: Clients) -> None:
    client = _loopback_client(clients, "127.0.0.1")
    assert client.auth_method == "none" and not client.client_secret, (
        f"a native app registered with token_endpoint_auth_method none was given {client.auth_method}"
        + (" and a client secret" if client.client_secret else "")
    )
    response = oauth.exchange(oauth.code(client))
    assert response.status_code == 200, (
        f"the native app's code exchange without a secret was refused: HTTP {response.status_code}"
    )
