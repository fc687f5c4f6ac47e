"""RFC 6750: presenting bearer tokens to the protected resource the profile names, and its challenges.

Every request goes to ``[resource] url`` with the profile's method. "Accepted" means the resource
did not refuse the token (no 401/403 and no Bearer error); an MCP endpoint may still answer an
empty request with 400, which says nothing about the token.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import httpx

from oauth_conformance import requirement
from oauth_conformance.support.attempts import revoked_access_token
from oauth_conformance.support.checks import assert_resource_accepts
from oauth_conformance.support.checks import bearer_challenges
from oauth_conformance.support.checks import bearer_param
from oauth_conformance.support.checks import resource_refused
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_tested

SINGLE = ("realm", "scope", "error", "error_description", "error_uri")
# RFC 6750 section 3 (and OAuth 2.1 section 5.3.1): the characters each attribute may carry.
_NQCHAR = frozenset(chr(c) for c in (0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F)))
ALLOWED = {
    "scope": _NQCHAR | {" "},
    "error": _NQCHAR | {" "},
    "error_description": _NQCHAR | {" "},
    "error_uri": _NQCHAR,
}


def unknown_token() -> str:
    """A well-formed bearer token (b64token characters) that no server has issued."""
    return f"oauth-conformance-unknown-{secrets.token_hex(16)}"


def challenges_of(response: httpx.Response) -> list[list[tuple[str, str]]]:
    found = bearer_challenges(response)
    if not found:
        raise PrerequisiteFailed(
            f"HTTP {response.status_code} carries no challenge of the 'Bearer' scheme to inspect"
            " (see RFC6750-3-CHALLENGE)"
        )
    return found


def expired(oauth: OAuth, clients: Clients, clock: TargetClock) -> httpx.Response:
    """A token the resource accepted, presented again after its stated lifetime (plus a minute)."""
    tokens = oauth.usable_tokens(clients.public())
    if tokens.expires_in is None:
        not_tested("the token response states no expires_in, so the harness cannot know when the token expires")
    clock.advance(tokens.expires_in + 60)
    return oauth.call_resource(tokens.access_token)


# ----------------------------------------------------------------------------- section 2.1
@requirement("RFC6750-2.1-HEADER")
def test_a_valid_token_in_the_authorization_header_is_accepted(oauth: OAuth, clients: Clients) -> None:
    oauth.resource_url  # noqa: B018  (not_tested without a resource, before any flow)
    tokens = oauth.tokens(clients.public())
    assert_resource_accepts(oauth.call_resource(tokens.access_token))


@requirement("RFC6750-2.1-SCHEME-CASE")
def test_the_bearer_scheme_name_is_case_insensitive(oauth: OAuth, clients: Clients) -> None:
    tokens = oauth.usable_tokens(clients.public())
    refused = []
    for scheme in ("bearer", "BEARER", "bEaReR"):
        response = oauth.call_resource(tokens.access_token, scheme=scheme)
        if resource_refused(response) or response.status_code >= 500:
            refused.append(f"{scheme} (HTTP {response.status_code})")
    assert not refused, f"the token is accepted with the scheme 'Bearer' but refused with {', '.join(refused)}"


# ------------------------------------------------------------------------------- section 3
@requirement("RFC6750-3-CHALLENGE")
def test_a_request_without_a_token_gets_a_bearer_challenge(oauth: OAuth) -> None:
    response = oauth.call_resource(None)
    assert response.headers.get("www-authenticate"), (
        f"HTTP {response.status_code} to a request without a token has no WWW-Authenticate header"
    )
    found = bearer_challenges(response)
    assert found, (
        f"WWW-Authenticate {response.headers.get('www-authenticate')!r} has no challenge of the 'Bearer' scheme"
    )
    assert any(found), "the 'Bearer' challenge carries no auth-param"


@requirement("RFC6750-3-CHALLENGE")
def test_a_request_with_an_unknown_token_gets_a_bearer_challenge(oauth: OAuth) -> None:
    response = oauth.call_resource(unknown_token())
    assert response.headers.get("www-authenticate"), (
        f"HTTP {response.status_code} to an unknown token has no WWW-Authenticate header"
    )
    found = bearer_challenges(response)
    assert found, (
        f"WWW-Authenticate {response.headers.get('www-authenticate')!r} has no challenge of the 'Bearer' scheme"
    )
    assert any(found), "the 'Bearer' challenge carries no auth-param"


@requirement("RFC6750-3-ATTRIBUTES-ONCE")
def test_challenge_attributes_appear_at_most_once(oauth: OAuth) -> None:
    repeated = []
    for label, token in (("no token", None), ("an unknown token", unknown_token())):
        for params in challenges_of(oauth.call_resource(token)):
            names = [name for name, _ in params]
            repeated += [f"{name} (with {label})" for name in SINGLE if names.count(name) > 1]
    assert not repeated, f"repeated in a 'Bearer' challenge: {', '.join(repeated)}"


@requirement("RFC6750-3-ATTRIBUTE-CHARS")
def test_challenge_attribute_values_use_only_the_allowed_characters(oauth: OAuth) -> None:
    problems = []
    for label, token in (("no token", None), ("an unknown token", unknown_token())):
        for params in challenges_of(oauth.call_resource(token)):
            for name, value in params:
                if name in ALLOWED:
                    bad = sorted({ch for ch in value if ch not in ALLOWED[name]})
                    if bad:
                        problems.append(f"{name} has {bad!r} (with {label})")
    assert not problems, "; ".join(problems)


# ----------------------------------------------------------------------------- section 3.1
@requirement("RFC6750-3.1-NO-ERROR-ANON")
def test_a_request_without_credentials_gets_no_error_code(oauth: OAuth) -> None:
    response = oauth.call_resource(None)
    challenges_of(response)
    error = bearer_param(response, "error")
    assert error is None, f"the challenge to a request without credentials carries error={error!r}"


@requirement("RFC6750-3.1-INVALID-TOKEN")
def test_an_unknown_token_is_answered_401_invalid_token(oauth: OAuth) -> None:
    response = oauth.call_resource(unknown_token())
    assert response.status_code == 401, f"an unknown token got HTTP {response.status_code}, not 401"
    error = bearer_param(response, "error")
    assert error == "invalid_token", f"the challenge names error={error!r}, not invalid_token"


@requirement("RFC6750-3.1-INVALID-TOKEN")
def test_an_expired_token_is_answered_401_invalid_token(oauth: OAuth, clients: Clients, clock: TargetClock) -> None:
    response = expired(oauth, clients, clock)
    assert response.status_code == 401, f"an expired token got HTTP {response.status_code}, not 401"
    error = bearer_param(response, "error")
    assert error == "invalid_token", f"the challenge names error={error!r}, not invalid_token"


@requirement("RFC6750-3.1-INVALID-TOKEN")
def test_a_revoked_token_is_answered_401_invalid_token(oauth: OAuth, clients: Clients) -> None:
    client = clients.public()
    tokens = oauth.usable_tokens(client)
    revoked_access_token(oauth, client, tokens.access_token)
    response = oauth.call_resource(tokens.access_token)
    if not resource_refused(response):
        # RFC 7009 lets a server keep access tokens alive (RFC7009-2-ACCESS); then there is
        # nothing to challenge here.
        raise PrerequisiteFailed("the resource still accepts the revoked access token (see RFC7009-2-ACCESS)")
    assert response.status_code == 401, f"a revoked token got HTTP {response.status_code}, not 401"
    error = bearer_param(response, "error")
    assert error == "invalid_token", f"the challenge names error={error!r}, not invalid_token"


# ----------------------------------------------------------------------------- section 5
@requirement("RFC6750-5.2-LIFETIME")
def test_a_token_is_refused_once_its_lifetime_has_passed(oauth: OAuth, clients: Clients, clock: TargetClock) -> None:
    response = expired(oauth, clients, clock)
    assert resource_refused(response), (
        f"the token still works {clock.offset:.0f}s later, past the expires_in its token response stated"
        f" (HTTP {response.status_code})"
    )


@requirement("RFC6750-5.2-TLS")
def test_the_protected_resource_is_served_over_https(oauth: OAuth) -> None:
    url = oauth.resource_url
    assert urlsplit(url).scheme == "https", f"the protected resource {url} is not https"


@requirement("RFC6750-5.3-SHORT-LIVED", "MCP-THEFT-SHORT-AT")
def test_access_tokens_live_one_hour_or_less(oauth: OAuth, clients: Clients) -> None:
    tokens = oauth.tokens(clients.public())
    if tokens.expires_in is None:
        not_tested("the token response states no expires_in")
    assert tokens.expires_in <= 3600, f"expires_in is {tokens.expires_in}s, more than one hour"


# ------------------------------------------------------------------ section 3.1: more error codes
@requirement("RFC6750-3.1-INSUFFICIENT-SCOPE")
def test_a_token_without_the_needed_scope_gets_403_insufficient_scope(oauth: OAuth, clients: Clients) -> None:
    url = oauth.target.profile.resource.insufficient_scope_url
    if url is None:
        not_tested("no URL needing a scope the run's tokens lack is known", unlock="[resource] insufficient_scope_url")
    tokens = oauth.usable_tokens(clients.public())
    response = oauth.call_resource(tokens.access_token, url=url)
    if response.status_code < 400:
        raise PrerequisiteFailed(
            f"{url} served the run's token (HTTP {response.status_code}): it needs no scope the token lacks"
            " ([resource] insufficient_scope_url)"
        )
    assert response.status_code == 403, f"a token lacking the needed scope got HTTP {response.status_code}, not 403"
    error = bearer_param(response, "error")
    assert error == "insufficient_scope", f"the 403's Bearer challenge names error {error!r}, not insufficient_scope"


@requirement("RFC6750-3.1-ONE-METHOD")
def test_a_token_sent_by_two_methods_is_refused_with_invalid_request(oauth: OAuth, clients: Clients) -> None:
    tokens = oauth.usable_tokens(clients.public())
    response = oauth.http.post(
        oauth.resource_url,
        data={"access_token": tokens.access_token},
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )
    if response.status_code in (405, 415):
        not_tested(f"the resource does not take a form-encoded POST (HTTP {response.status_code})")
    assert response.status_code == 400, (
        f"a request carrying its token in the Authorization header and in the form body got HTTP"
        f" {response.status_code}, not 400"
    )
    error = bearer_param(response, "error")
    assert error in (None, "invalid_request"), f"the refusal names error {error!r}, not invalid_request"
