"""Twins that break the reference's PKCE (RFC 7636), one behaviour each.

How a code_verifier is checked against the code's challenge is the ``pkce-verify`` fault (a hook
around the reference's own check); everything else is broken on the wire.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Scope
from suites.tests.twins import twin
from suites.tests.twins.core import metadata_edit
from suites.tests.twins.core import nobodys_challenge
from suites.tests.twins.core import s256
from suites.tests.twins.wire import Flows
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import first
from suites.tests.twins.wire import on_query
from suites.tests.twins.wire import redirects
from suites.tests.twins.wire import replaced
from suites.tests.twins.wire import url_query

RFC7636 = ("rfc7636",)
# RFC 7636 sections 4.1 and 4.2: 43 to 128 unreserved characters (an S256 challenge has 43).
UNRESERVED = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")

Verify = Callable[[str, str, str], bool]


def verifying(broken: Callable[[Verify, str, str, str], bool]) -> dict[str, Callable[..., object]]:
    """The faults of a twin that checks a verifier with ``broken(verify, verifier, challenge, method)``,
    ``verify`` being the reference's own check."""
    return {"pkce-verify": broken}


@twin(
    "pkce-s256-unsupported",
    RFC7636,
    {"RFC7636-4.2-S256-MTI", "OAUTH21-4.1-CODE-FLOW"},
    faults=verifying(lambda verify, v, c, m: m != "S256" and verify(v, c, m)),
)
def s256_unsupported(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "pkce-verifier-ignored",
    RFC7636,
    {"RFC7636-4.6-S256-VERIFY", "RFC7636-4.4-BIND", "RFC7636-4.5-METHOD-BOUND"},
    faults=verifying(lambda verify, v, c, m: True),
    note="no verification at all: every check that a verifier must fit its challenge fails",
)
def verifier_ignored(app: ASGIApp) -> ASGIApp:
    return app


SEEN_CHALLENGES: set[str] = set()  # every code_challenge the twin's authorization endpoint was sent


def fits_any_seen(verify: Verify, verifier: str, challenge: str, method: str) -> bool:
    return verify(verifier, challenge, method) or (
        bool(UNRESERVED.match(verifier)) and s256(verifier) in SEEN_CHALLENGES
    )


@twin("pkce-challenge-not-bound-to-code", RFC7636, {"RFC7636-4.4-BIND"}, faults=verifying(fits_any_seen))
def challenge_not_bound(app: ASGIApp) -> ASGIApp:
    """A verifier is accepted if it fits any challenge the server has seen, not the code's own."""

    def remember(scope: Scope, pairs: Pairs) -> Pairs:
        SEEN_CHALLENGES.update(v for k, v in pairs if k == "code_challenge")
        return pairs

    return on_query(app, remember)


@twin(
    "pkce-falls-back-to-plain",
    RFC7636,
    {"RFC7636-4.5-METHOD-BOUND"},
    faults=verifying(lambda verify, v, c, m: verify(v, c, m) or v == c),
)
def falls_back_to_plain(app: ASGIApp) -> ASGIApp:
    return app


@twin("pkce-challenge-leaked", RFC7636, {"RFC7636-4.4-NO-LEAK"})
def challenge_leaked(app: ASGIApp) -> ASGIApp:
    """The redirect with the code also carries the code's challenge."""
    flows = Flows()

    def leak(scope: Scope, location: str) -> str:
        flow = flows.of(first(url_query(location), "code"))
        challenge = first(flow.request, "code_challenge") if flow else None
        return f"{location}&pkce_hint={challenge}" if challenge else location

    return redirects(flows.observe(app), leak)


@twin("pkce-missing-challenge-wrong-error", RFC7636, {"RFC7636-4.4.1-MISSING"})
def missing_challenge_wrong_error(app: ASGIApp) -> ASGIApp:
    def bend(scope: Scope, location: str) -> str:
        pairs = url_query(location)
        if first(pairs, "error") != "invalid_request" or "PKCE" not in (first(pairs, "error_description") or ""):
            return location
        return location.replace("error=invalid_request", "error=unauthorized_client", 1)

    return redirects(app, bend)


@twin("pkce-unknown-method-read-as-s256", RFC7636, {"RFC7636-4.4.1-METHOD"})
def unknown_method_read_as_s256(app: ASGIApp) -> ASGIApp:
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        return [(n, "S256" if n == "code_challenge_method" and v not in ("S256", "plain") else v) for n, v in pairs]

    return on_query(app, transform)


@twin(
    "pkce-plain-accepted-unadvertised",
    RFC7636,
    {"RFC7636-4.4.1-METHOD"},
    options={"allow_plain_pkce": True},
    note="plain works, but code_challenge_methods_supported lists only S256",
)
def plain_accepted_unadvertised(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["code_challenge_methods_supported"] = ["S256"]
        return doc

    return metadata_edit(app, edit)


@twin("pkce-default-method-s256", RFC7636, {"RFC7636-4.3-DEFAULT-PLAIN"})
def default_method_s256(app: ASGIApp) -> ASGIApp:
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        names = {n for n, _ in pairs}
        if "code_challenge" in names and "code_challenge_method" not in names:
            return [*pairs, ("code_challenge_method", "S256")]
        return pairs

    return on_query(app, transform)


@twin(
    "pkce-plain-not-compared",
    RFC7636,
    {"RFC7636-4.6-PLAIN-VERIFY", "RFC7636-4.3-DEFAULT-PLAIN"},
    options={"allow_plain_pkce": True},
    faults=verifying(lambda verify, v, c, m: m == "plain" or verify(v, c, m)),
    note="a challenge without a method is plain too, so its code takes any verifier as well",
)
def plain_not_compared(app: ASGIApp) -> ASGIApp:
    return app


# ------------------------------------------------------------------------ SHOULDs (warnings only)
@twin(
    "pkce-verifier-syntax-unchecked",
    RFC7636,
    set(),
    warns={"RFC7636-4.1-VERIFIER-SYNTAX"},
    faults=verifying(lambda verify, v, c, m: (s256(v) if m == "S256" else v) == c),
)
def verifier_syntax_unchecked(app: ASGIApp) -> ASGIApp:
    return app


@twin("pkce-challenge-syntax-unchecked", RFC7636, set(), warns={"RFC7636-4.2-CHALLENGE-SYNTAX"})
def challenge_syntax_unchecked(app: ASGIApp) -> ASGIApp:
    """Any non-empty challenge is taken: a malformed one is replaced, unseen, by a well-formed one."""

    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        challenge = first(pairs, "code_challenge")
        method = first(pairs, "code_challenge_method") or "plain"
        well_formed = UNRESERVED.match(challenge or "") and (method != "S256" or len(challenge or "") == 43)
        if challenge and not well_formed:
            return replaced(pairs, "code_challenge", nobodys_challenge())
        return pairs

    return on_query(app, transform)
