"""Twins that break the reference's PKCE (RFC 7636), one behaviour each."""

from __future__ import annotations

from typing import Any

from oauth_reference.machinery.asgi import ASGIApp
from suites.tests.twins import twin
from suites.tests.twins.core import Pairs
from suites.tests.twins.core import metadata_edit
from suites.tests.twins.core import patch
from suites.tests.twins.core import s256
from suites.tests.twins.core import wrap_parse

RFC7636 = ("rfc7636",)


def _verify(broken: Any) -> None:
    """rfc7636.verify, as the token endpoint calls it, accepts what ``broken(verifier, challenge, method)`` does."""
    from oauth_reference.specs import rfc7636

    original = rfc7636.verify
    patch(rfc7636, "verify", lambda verifier, challenge, method: broken(verifier, challenge, method, original))


@twin("pkce-s256-unsupported", RFC7636, {"RFC7636-4.2-S256-MTI"})
def s256_unsupported(app: ASGIApp) -> ASGIApp:
    _verify(lambda v, c, m, original: m != "S256" and original(v, c, m))
    return app


@twin(
    "pkce-verifier-ignored",
    RFC7636,
    {"RFC7636-4.6-S256-VERIFY", "RFC7636-4.4-BIND", "RFC7636-4.5-METHOD-BOUND"},
    note="no verification at all: every check that a verifier must fit its challenge fails",
)
def verifier_ignored(app: ASGIApp) -> ASGIApp:
    _verify(lambda v, c, m, original: True)
    return app


@twin("pkce-challenge-not-bound-to-code", RFC7636, {"RFC7636-4.4-BIND"})
def challenge_not_bound(app: ASGIApp) -> ASGIApp:
    """A verifier is accepted if it fits any challenge the server has seen, not the code's own."""
    from oauth_reference.specs import rfc7636

    seen: set[str] = set()
    valid_challenge = rfc7636.valid_challenge

    def remember(challenge: str, method: str) -> bool:
        seen.add(challenge)
        return valid_challenge(challenge, method)

    patch(rfc7636, "valid_challenge", remember)
    _verify(lambda v, c, m, original: original(v, c, m) or (rfc7636.valid_verifier(v) and s256(v) in seen))
    return app


@twin("pkce-falls-back-to-plain", RFC7636, {"RFC7636-4.5-METHOD-BOUND"})
def falls_back_to_plain(app: ASGIApp) -> ASGIApp:
    _verify(lambda v, c, m, original: original(v, c, m) or v == c)
    return app


@twin("pkce-challenge-leaked", RFC7636, {"RFC7636-4.4-NO-LEAK"})
def challenge_leaked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    original = authorization.complete_authorization

    async def complete(core: Any, request: Any, **kwargs: Any) -> str:
        url: str = await original(core, request, **kwargs)
        return f"{url}&pkce_hint={request.code_challenge}" if request.code_challenge else url

    patch(authorization, "complete_authorization", complete)
    return app


@twin("pkce-missing-challenge-wrong-error", RFC7636, {"RFC7636-4.4.1-MISSING"})
def missing_challenge_wrong_error(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import AuthorizationError
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    original = authorization.parse_auth_request

    async def parse(core: Any, pairs: Pairs, origin: str) -> Any:
        try:
            return await original(core, pairs, origin)
        except AuthorizationError as exc:
            if "must use PKCE" not in (exc.description or "") or exc.redirect_to is None:
                raise
            bent = exc.redirect_to.replace("error=invalid_request", "error=unauthorized_client")
            raise AuthorizationError(exc.oauth_error, bent) from None

    patch(authorization, "parse_auth_request", parse)
    return app


@twin("pkce-unknown-method-read-as-s256", RFC7636, {"RFC7636-4.4.1-METHOD"})
def unknown_method_read_as_s256(app: ASGIApp) -> ASGIApp:
    def transform(pairs: Pairs) -> Pairs:
        return [(n, "S256" if n == "code_challenge_method" and v not in ("S256", "plain") else v) for n, v in pairs]

    wrap_parse(transform)
    return app


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
    def transform(pairs: Pairs) -> Pairs:
        names = {n for n, _ in pairs}
        if "code_challenge" in names and "code_challenge_method" not in names:
            return [*pairs, ("code_challenge_method", "S256")]
        return pairs

    wrap_parse(transform)
    return app


@twin(
    "pkce-plain-not-compared",
    RFC7636,
    {"RFC7636-4.6-PLAIN-VERIFY", "RFC7636-4.3-DEFAULT-PLAIN"},
    options={"allow_plain_pkce": True},
    note="a challenge without a method is plain too, so its code takes any verifier as well",
)
def plain_not_compared(app: ASGIApp) -> ASGIApp:
    _verify(lambda v, c, m, original: m == "plain" or original(v, c, m))
    return app


# ------------------------------------------------------------------------ SHOULDs (warnings only)
@twin("pkce-verifier-syntax-unchecked", RFC7636, set(), warns={"RFC7636-4.1-VERIFIER-SYNTAX"})
def verifier_syntax_unchecked(app: ASGIApp) -> ASGIApp:
    _verify(lambda v, c, m, original: (s256(v) if m == "S256" else v) == c)
    return app


@twin("pkce-challenge-syntax-unchecked", RFC7636, set(), warns={"RFC7636-4.2-CHALLENGE-SYNTAX"})
def challenge_syntax_unchecked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc7636

    patch(rfc7636, "valid_challenge", lambda challenge, method: bool(challenge))
    return app
