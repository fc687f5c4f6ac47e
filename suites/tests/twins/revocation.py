"""Twins that break token revocation (RFC 7009), one behaviour each.

The reference revokes at its token endpoint (a POST with ``token`` and no ``grant_type``). The
twins rewrite revocation requests on the wire (a token the broken server would not find is sent
as one the reference does not know either), answer some themselves, or keep the tokens a
revocation would end (a storage that drops the cascade).
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence

from oauth_reference import Clock
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Write
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from suites.tests.twins import twin
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Clients
from suites.tests.twins.wire import Issued
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import first
from suites.tests.twins.wire import form_of
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_answer
from suites.tests.twins.wire import on_token
from suites.tests.twins.wire import path_is
from suites.tests.twins.wire import presented
from suites.tests.twins.wire import replaced

SPECS = ("rfc7009",)
TOKEN = "/oauth/token"
UNKNOWN_TOKEN = "a-token-this-server-never-issued"  # revoking it revokes nothing, and answers 200
Forward = Callable[[Scope, Pairs], Awaitable[Answer]]


def is_revocation(pairs: Pairs) -> bool:
    return first(pairs, "grant_type") is None and first(pairs, "token") is not None


def unsupported_token_type() -> Answer:
    return json_answer(400, {"error": "unsupported_token_type", "error_description": "not revocable here"})


def on_revocations(
    app: ASGIApp, issued: Issued, handle: Callable[[Scope, Pairs, Forward], Awaitable[Answer]]
) -> ASGIApp:
    """``handle`` answers revocation requests; the tokens issued before are learned in ``issued``."""

    async def handler(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        return await handle(scope, pairs, forward) if is_revocation(pairs) else await forward(scope, pairs)

    return on_token(issued.observe(app), handler)


def revoking_unless(app: ASGIApp, keep: Callable[[Pairs, Issued], bool]) -> ASGIApp:
    """A revocation of a token ``keep`` picks revokes nothing (the client is still authenticated)."""
    issued = Issued()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        if keep(pairs, issued):
            pairs = replaced(pairs, "token", UNKNOWN_TOKEN)
        return await forward(scope, pairs)

    return on_revocations(app, issued, handle)


@twin(
    "revocation-refresh-tokens-unsupported",
    SPECS,
    {"RFC7009-2-REFRESH"},
    note="every test that needs a working refresh-token revocation is not_tested instead",
)
def refresh_tokens_unsupported(app: ASGIApp) -> ASGIApp:
    issued = Issued()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        if issued.of_kind(first(pairs, "token"), "refresh_token"):
            return unsupported_token_type()
        return await forward(scope, pairs)

    return on_revocations(app, issued, handle)


@twin("revocation-revokes-nothing", SPECS, {"RFC7009-2.1-IMMEDIATE"}, warns={"RFC7009-2-ACCESS", "RFC7009-2.1-CASCADE"})
def revokes_nothing(app: ASGIApp) -> ASGIApp:
    return revoking_unless(app, lambda pairs, issued: True)


@twin("revocation-hint-is-authoritative", SPECS, {"RFC7009-2.1-HINT-FALLBACK"})
def hint_is_authoritative(app: ASGIApp) -> ASGIApp:
    """With token_type_hint=access_token, only access tokens are searched."""

    def keep(pairs: Pairs, issued: Issued) -> bool:
        hinted = first(pairs, "token_type_hint") == "access_token"
        return hinted and issued.of_kind(first(pairs, "token"), "refresh_token")

    return revoking_unless(app, keep)


@twin(
    "revocation-refresh-hint-misses-access-tokens-control-failed-once",
    SPECS,
    {"RFC7009-2.1-HINT-FALLBACK"},
    note="the test read one failed control revocation as the server not revoking access tokens at all",
)
def refresh_hint_misses_access_tokens_control_failed_once(app: ASGIApp) -> ASGIApp:
    """With token_type_hint=refresh_token, only refresh tokens are searched; the next revocation of
    an access token so missed (the test's control, hinted access_token) gets a 503 once."""
    issued = Issued()
    missed: set[str] = set()
    failed: list[str] = []

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        token = first(pairs, "token") or ""
        hint = first(pairs, "token_type_hint")
        if hint == "refresh_token" and issued.of_kind(token, "access_token"):
            missed.add(token)
            pairs = replaced(pairs, "token", UNKNOWN_TOKEN)
        elif hint == "access_token" and token in missed and not failed:
            failed.append(token)
            return json_answer(503, {"error": "temporarily_unavailable"})
        return await forward(scope, pairs)

    return on_revocations(app, issued, handle)


@twin("revocation-unknown-hint-refused", SPECS, set(), warns={"RFC7009-2.2-BAD-HINT"})
def unknown_hint_refused(app: ASGIApp) -> ASGIApp:
    issued = Issued()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        if first(pairs, "token_type_hint") not in (None, "access_token", "refresh_token"):
            answer = await forward(scope, replaced(pairs, "token", UNKNOWN_TOKEN))  # the client is authenticated
            return unsupported_token_type() if answer[0] == 200 else answer
        return await forward(scope, pairs)

    return on_revocations(app, issued, handle)


@twin("revocation-unknown-token-refused", SPECS, set(), warns={"RFC7009-2.2-INVALID-200"})
def unknown_token_refused(app: ASGIApp) -> ASGIApp:
    """A token the server never issued is answered 400 (an oracle for valid tokens)."""
    issued = Issued()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        answer = await forward(scope, pairs)
        if answer[0] == 200 and first(pairs, "token") not in issued.kinds:
            return json_answer(400, {"error": "invalid_request", "error_description": "no such token"})
        return answer

    return on_revocations(app, issued, handle)


@twin("revocation-skips-client-authentication", SPECS, {"RFC7009-2.1-CLIENT-AUTH"})
def skips_client_authentication(app: ASGIApp) -> ASGIApp:
    """A revocation request is served whatever credentials it carries: it is sent with the named
    client's real ones (the clients are learned as they register)."""
    clients, issued = Clients(), Issued()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        client_id = presented(scope, pairs).client_id
        if client_id in clients.known:
            scope, pairs = clients.authenticate_as(scope, pairs, client_id)
        return await forward(scope, pairs)

    return clients.observe(on_revocations(app, issued, handle))


@twin("revocation-ignores-ownership", SPECS, {"RFC7009-2.1-OWNERSHIP"})
def ignores_ownership(app: ASGIApp) -> ASGIApp:
    """Any client may revoke any token: the request is sent as the token's own client."""
    clients, issued = Clients(), Issued()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        owner = issued.clients.get(first(pairs, "token") or "")
        if owner is not None and owner != presented(scope, pairs).client_id and clients.authenticates(scope, pairs):
            scope, pairs = clients.authenticate_as(scope, pairs, owner)
        return await forward(scope, pairs)

    return clients.observe(on_revocations(app, issued, handle))


@twin("revocation-errors-not-json", SPECS, {"RFC7009-2.2.1-ERROR-FORMAT"})
def errors_not_json(app: ASGIApp) -> ASGIApp:
    async def handle(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        pairs = form_of(body)
        if first(pairs, "grant_type") is None and first(pairs, "token") is None:
            return 400, [(b"content-type", b"text/plain")], b"bad revocation request"
        return await forward(scope, body)

    return intercept(app, path_is(TOKEN, "POST"), handle)


TOKENS_OF_GRANT = "token:"  # the storage schema's access tokens (reference/README.md, "Storage schema")


class NoCascade(SQLiteStorage):
    """A store that never deletes a grant's access tokens with the grant."""

    async def commit(self, writes: Sequence[Write], *, expect: Mapping[str, int | None] | None = None) -> bool:
        kept = [w for w in writes if not (isinstance(w, DeletePrefix) and w.prefix.startswith(TOKENS_OF_GRANT))]
        return await super().commit(kept, expect=expect)


def no_cascade(path: str, clock: Clock) -> NoCascade:
    return NoCascade(path, clock)


@twin("revocation-refresh-keeps-access-tokens", SPECS, set(), warns={"RFC7009-2.1-CASCADE"}, storage=no_cascade)
def refresh_keeps_access_tokens(app: ASGIApp) -> ASGIApp:
    return app


@twin("revocation-access-tokens-unsupported", SPECS, set(), warns={"RFC7009-2-ACCESS"})
def access_tokens_unsupported(app: ASGIApp) -> ASGIApp:
    return revoking_unless(app, lambda pairs, issued: issued.of_kind(first(pairs, "token"), "access_token"))
