"""Features a target offers without advertising them, found by trying them once.

Leaving a grant out of ``grant_types_supported`` must not switch its requirements off: a target
that issues refresh tokens is held to the refresh rules whether or not its metadata says so, and
the omission is a finding (RFC8414-2-GRANTS-TRUTHFUL, which also holds the other direction: an
advertised grant the token endpoint refuses). Before the first test of a process, each probeable
feature the metadata does not advertise is tried once, cheaply:

- refresh tokens: one plain code flow; a ``refresh_token`` member in its token response;
- token exchange, the JWT bearer grant, client credentials: one token request of that grant type
  with a made-up subject token or assertion; an answer other than ``unsupported_grant_type`` (a 200,
  or an error about the request's contents such as ``invalid_grant``) means the grant is known;
- DPoP, on demand (before the first test with a requirement that applies if DPoP is offered): a
  token request with a DPoP header that is no JWT, for a registered client (a server may
  authenticate the client before it reads the proof), first with a made-up code, then, if that
  said nothing, with a real one (a server may check the code first); a server that judges the
  header (``invalid_dpop_proof``, a nonce it wants first, a DPoP challenge) checks proofs;
- client secrets, on demand (before the first test that needs a secret method or has a requirement
  that applies if one is offered): a confidential client registered (or taken from the profile)
  for client_secret_basic or client_secret_post, and a code exchange authenticated that way; tokens
  mean the method is offered, a registration that refuses the method or turns it into another, or
  an OAuth error for the exchange, mean it is not;
- private_key_jwt, on demand (before the first test of a client that uses it): a client of the
  method with the harness's test key (a metadata document client, or one registered with
  ``jwks``), and a code exchange carrying its valid assertion; tokens mean the method is offered,
  an OAuth error, or a registration that refuses the method, mean it is not;
- ID-JAG: the JWT bearer grant is offered and the profile says the target trusts the harness's
  test IdP (``[idjag] trusted``), the only way an ID-JAG profile is used without advertising it.

A probe whose answer is not a clear "no" (it raised, or the token endpoint answered a 5xx, a page
or anything but an OAuth error) is tried once more: one failed request must not hide a grant the
target serves, and with it every requirement of that grant. A probe that still cannot run (no
client, the harness cannot get through the login) leaves the feature where the metadata put it.
What a probe found goes into ``target.probed``; ``target.supports`` reads it, so applicability,
client metadata and the tests all see the same set.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any
from typing import Protocol

import httpx

from oauth_conformance.features import Feature
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import JWT_BEARER
from oauth_conformance.target import TOKEN_EXCHANGE
from oauth_conformance.target import Target
from oauth_conformance.verdicts import Outcome


class KeyHolder(Protocol):
    """What the private_key_jwt probe needs of a client with a key (jwt_bearer.KeyClient, which
    calls the probe, so this module does not import it)."""

    def assertion(self) -> str: ...

    def redeem(self, assertion: str | None, **kwargs: Any) -> httpx.Response: ...


# Errors that show the token endpoint knows the grant and judged the request's contents.
KNOWN_GRANT_ERRORS = frozenset({"invalid_grant", "invalid_target", "invalid_scope", "unauthorized_client"})
GRANT_TYPES = {
    Feature.REFRESH: "refresh_token",
    Feature.TOKEN_EXCHANGE: TOKEN_EXCHANGE,
    Feature.JWT_BEARER: JWT_BEARER,
    Feature.CLIENT_CREDENTIALS: "client_credentials",
}


def _grant_form(feature: Feature) -> dict[str, str | None]:
    made_up = f"oauth-conformance-probe-{secrets.token_hex(8)}"
    if feature == Feature.TOKEN_EXCHANGE:
        return {"subject_token": made_up, "subject_token_type": "urn:ietf:params:oauth:token-type:access_token"}
    if feature == Feature.JWT_BEARER:
        return {"assertion": f"{made_up}.{made_up}.{made_up}"}
    return {}


def _error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("error")) if isinstance(body, dict) and body.get("error") else None


def _probe_client(clients: Clients) -> Client:
    try:
        return clients.confidential()
    except Outcome:
        return clients.public()


class Inconclusive(Exception):
    """A probe's answer says neither yes nor no (a 5xx, a page, a 200 without a token)."""


def grant_accepted(oauth: OAuth, clients: Clients, feature: Feature) -> str | None:
    """What shows that the token endpoint knows ``feature``'s grant type, or None when it answered
    with an OAuth error that does not (unsupported_grant_type, say); anything else is Inconclusive."""
    grant = GRANT_TYPES[feature]
    response = oauth.token_request(_probe_client(clients), {"grant_type": grant, **_grant_form(feature)})
    error = _error(response)
    if response.status_code == 200 and "access_token" in response.text:
        return f"grant_type {grant} got a token"
    if error in KNOWN_GRANT_ERRORS:
        return f"grant_type {grant} was answered {error}, not unsupported_grant_type"
    if error is None or response.status_code >= 500:
        # RFC 6749 section 5.2: a refused grant is an error response in JSON, with a 400 (401 for
        # client authentication); a 5xx or a body without an error code is no answer to the question.
        raise Inconclusive(f"grant_type {grant} was answered HTTP {response.status_code} without an OAuth error")
    return None


def refresh_issued(oauth: OAuth, clients: Clients) -> str | None:
    # Registered for the refresh grant too, where registration allows: a server may issue refresh
    # tokens only to clients that asked for the grant.
    both = ["authorization_code", "refresh_token"]
    client = None
    for kind in ("public", "confidential"):
        try:
            client = clients.public(grant_types=both) if kind == "public" else clients.confidential(grant_types=both)
            break
        except Outcome:
            continue
    if client is None:
        client = _probe_client(clients)
    tokens = oauth.tokens(client)
    return "a token response carried a refresh_token" if tokens.refresh_token else None


NOT_A_PROOF = "oauth-conformance.not-a-jwt"


def dpop_checked(oauth: OAuth, clients: Clients) -> str | None:
    """What shows that the token endpoint judges DPoP proofs, or None when it answered the request as
    if the header were not there (an OAuth error about the code, or tokens); anything else is
    Inconclusive. A made-up code first (cheap); then, since a server may look at the code before the
    proof, a real one (its tokens, when the proof is not judged, are not used)."""
    client = _probe_client(clients)
    made_up: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": f"oauth-conformance-probe-{secrets.token_hex(8)}",
        "redirect_uri": oauth.target.profile.request.redirect_uri,
    }
    seen = _proof_judged(oauth, oauth.build_token_request(client, made_up))
    return seen or _proof_judged(oauth, oauth.build_exchange(oauth.code(client)))


def _proof_judged(oauth: OAuth, request: httpx.Request) -> str | None:
    request.headers["DPoP"] = NOT_A_PROOF
    response = oauth.http.send(request)
    error = _error(response)
    challenges = ",".join(response.headers.get_list("www-authenticate")).lower()
    if error in ("invalid_dpop_proof", "use_dpop_nonce") or challenges.startswith("dpop"):
        return f"a token request with a DPoP header that is no JWT was answered {error or 'with a DPoP challenge'}"
    if response.status_code == 200 or (error is not None and response.status_code < 500):
        return None
    raise Inconclusive(
        f"a token request with a DPoP header was answered HTTP {response.status_code} without an OAuth error"
    )


def secret_accepted(oauth: OAuth, clients: Clients, method: str) -> str | None:
    """What shows that the token endpoint authenticates a client by ``method`` (client_secret_basic
    or client_secret_post), or None when no such client can be had or its exchange is refused
    with an OAuth error; anything else is Inconclusive."""
    try:
        client = clients.confidential(method)
    except Outcome:
        return None  # registration refused the method and no profile client uses it
    if client.auth_method != method or not client.client_secret:
        return None  # registration turned it into another method: not offered
    return _authenticated(oauth.exchange(oauth.code(client)), f"a {method} client's code exchange")


def key_jwt_accepted(make_client: Callable[[], KeyHolder]) -> str | None:
    """What shows that the token endpoint authenticates a client by private_key_jwt (a metadata
    document client, or one registered with ``jwks``, from ``make_client``), or None when no such
    client can be had or its code exchange with a valid assertion is refused with an OAuth error;
    anything else is Inconclusive."""
    try:
        key_client = make_client()
    except Outcome:
        return None  # registration refused the method, or the target takes neither documents nor registrations
    response = key_client.redeem(key_client.assertion())
    return _authenticated(response, "a private_key_jwt client's code exchange with its valid assertion")


def _authenticated(response: httpx.Response, what: str) -> str | None:
    """The answer to a code exchange authenticated by the method a probe tries (``what`` names the
    exchange): tokens show the method is offered; an OAuth error below 500 that it is not (None);
    anything else says neither (Inconclusive)."""
    if response.status_code == 200 and "access_token" in response.text:
        return f"{what} got tokens"
    if _error(response) is not None and response.status_code < 500:
        return None
    raise Inconclusive(f"{what} was answered HTTP {response.status_code} without an OAuth error")


SECRET_METHODS = {Feature.CLIENT_SECRET_BASIC: "client_secret_basic", Feature.CLIENT_SECRET_POST: "client_secret_post"}

PROBES: dict[Feature, Callable[[OAuth, Clients], str | None]] = {
    Feature.REFRESH: refresh_issued,
    Feature.TOKEN_EXCHANGE: lambda oauth, clients: grant_accepted(oauth, clients, Feature.TOKEN_EXCHANGE),
    Feature.JWT_BEARER: lambda oauth, clients: grant_accepted(oauth, clients, Feature.JWT_BEARER),
    Feature.CLIENT_CREDENTIALS: lambda oauth, clients: grant_accepted(oauth, clients, Feature.CLIENT_CREDENTIALS),
}
# Probed only when a test that needs the feature comes (DPoP costs a code flow, and only the
# requirements that apply if it is offered read it).
ON_DEMAND: dict[Feature, Callable[[OAuth, Clients], str | None]] = {
    Feature.DPOP: dpop_checked,
    **{f: functools.partial(secret_accepted, method=m) for f, m in SECRET_METHODS.items()},
}


def probe(target: Target, oauth: OAuth, clients: Clients) -> None:
    """Try each probeable feature the metadata does not advertise, once per process."""
    if target.probed.ran:
        return
    target.probed.ran = True
    if target.endpoint("token_endpoint") is None:
        return
    for feature, try_it in PROBES.items():
        if target.advertises(feature):
            continue
        seen = twice(functools.partial(try_it, oauth, clients))
        if seen:
            target.probed.seen[feature] = seen
    if not target.advertises(Feature.IDJAG) and target.supports(Feature.JWT_BEARER) and target.profile.idjag.trusted:
        target.probed.seen[Feature.IDJAG] = (
            "the JWT bearer grant is offered and the profile says the test IdP is trusted"
        )


def probe_on_demand(
    target: Target, features: set[Feature], oauth: Callable[[], OAuth], clients: Callable[[], Clients]
) -> None:
    """Try each on-demand feature among ``features`` that the metadata does not advertise, once per
    process (``oauth`` and ``clients`` are asked for only when a probe runs)."""
    for feature in sorted(features & ON_DEMAND.keys()):
        _once(target, feature, functools.partial(_with_fixtures, ON_DEMAND[feature], oauth, clients))


def _with_fixtures(
    try_it: Callable[[OAuth, Clients], str | None], oauth: Callable[[], OAuth], clients: Callable[[], Clients]
) -> str | None:
    return try_it(oauth(), clients())


def _once(target: Target, feature: Feature, try_it: Callable[[], str | None]) -> None:
    """Try ``feature`` once per process (twice if the first answer was unclear), unless the metadata
    advertises it or there is no token endpoint to try it at; what shows it goes into ``target.probed``."""
    if feature in target.probed.asked:
        return
    target.probed.asked.add(feature)
    if target.advertises(feature) or target.endpoint("token_endpoint") is None:
        return
    seen = twice(try_it)
    if seen:
        target.probed.seen[feature] = seen


def secret_methods(target: Target, oauth: OAuth, clients: Clients) -> None:
    """Probe the client secret methods the metadata leaves out, before a test picks one."""
    probe_on_demand(target, set(SECRET_METHODS), lambda: oauth, lambda: clients)


def private_key_jwt(target: Target, make_client: Callable[[], KeyHolder]) -> None:
    """Probe private_key_jwt when the metadata leaves it out, once per process, before a test of a
    client that uses it (``make_client``: a fresh one, as the test would get)."""
    _once(target, Feature.PRIVATE_KEY_JWT, functools.partial(key_jwt_accepted, make_client))


def twice(try_it: Callable[[], str | None]) -> str | None:
    """A probe's finding, tried a second time when the first try was not a clear answer (it raised:
    a failed request, a 5xx, a page). A finding on the second try says what the first ended in."""
    try:
        return try_it()
    except httpx.TimeoutException:
        return None  # a hang is no blip: another try would wait out the whole timeout again
    except Exception as exc:  # a probe never breaks the test it runs before
        first = _why(exc)
    try:
        seen = try_it()
    except Exception:
        return None  # the feature stays where the metadata put it
    return f"{seen} (on a second try: the first ended in {first})" if seen else None


def _why(exc: Exception) -> str:
    # The harness's own words for its outcomes; only the class of anything else (a transport
    # error's message may carry a URL with a secret in it).
    return exc.reason if isinstance(exc, Outcome) else str(exc) if isinstance(exc, Inconclusive) else type(exc).__name__


def unadvertised(target: Target) -> dict[str, str]:
    """Grant types the target was seen to offer that grant_types_supported leaves out."""
    return {GRANT_TYPES[f]: seen for f, seen in target.probed.seen.items() if f in GRANT_TYPES}
