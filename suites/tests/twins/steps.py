"""Twins whose server fault on a test's way hid a broken check (a step answered 503 once).

Each answers the first request of one step (per token) with a 503, as a busy server may, and breaks
the behaviour the test checks after that step. A harness that read the 503 as "the step failed"
ended the test not_tested and missed the broken behaviour; one that asks again (RFC 7009 section
2.2.1 lets a client retry a 503) reaches the check, and fails it.
"""

from __future__ import annotations

from collections.abc import Callable

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.introspection import OPTIONS as INTROSPECTION
from suites.tests.twins.introspection import PATH as INTROSPECT
from suites.tests.twins.revocation import UNKNOWN_TOKEN
from suites.tests.twins.revocation import Forward as PairsForward
from suites.tests.twins.revocation import is_revocation
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Forward
from suites.tests.twins.wire import Issued
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import first
from suites.tests.twins.wire import form_of
from suites.tests.twins.wire import header
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_answer
from suites.tests.twins.wire import on_token
from suites.tests.twins.wire import path_is
from suites.tests.twins.wire import replaced
from suites.tests.twins.wire import send_answer

API = "/api/"


def busy() -> Answer:
    return json_answer(503, {"error": "temporarily_unavailable", "error_description": "try again"})


class FirstAsk:
    """Which tokens a step has been asked about once already."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def first(self, token: str | None) -> bool:
        if token is None or token in self.seen:
            return False
        self.seen.add(token)
        return True


def revocations(app: ASGIApp, issued: Issued, revoked: set[str], busy_for: Callable[[Pairs], bool]) -> ASGIApp:
    """A revocation ``busy_for`` picks is answered 503 the first time for each token; ``revoked``
    gathers the tokens whose revocation was answered 200."""
    asked = FirstAsk()

    async def handle(scope: Scope, pairs: Pairs, forward: PairsForward) -> Answer:
        if not is_revocation(pairs):
            return await forward(scope, pairs)
        token = first(pairs, "token")
        if busy_for(pairs) and asked.first(token):
            return busy()
        answer = await forward(scope, pairs)
        if answer[0] == 200 and token is not None:
            revoked.add(token)
        return answer

    return on_token(issued.observe(app), handle)


@twin(
    "steps-revocation-without-hint-busy-once-revokes-nothing",
    ("rfc7009",),
    {"RFC7009-2.1-IMMEDIATE"},
    note="a 503 to the first revocation without a hint made the test not_tested; the token it left alive hid",
)
def revocation_without_hint_busy_once(app: ASGIApp) -> ASGIApp:
    """A refresh token revoked without token_type_hint: 503 the first time, then 200 and nothing revoked."""
    issued = Issued()

    def hintless_refresh_token(pairs: Pairs) -> bool:
        return first(pairs, "token_type_hint") is None and issued.of_kind(first(pairs, "token"), "refresh_token")

    async def keep(scope: Scope, pairs: Pairs, forward: PairsForward) -> Answer:
        if is_revocation(pairs) and hintless_refresh_token(pairs):
            pairs = replaced(pairs, "token", UNKNOWN_TOKEN)
        return await forward(scope, pairs)

    return revocations(on_token(app, keep), issued, set(), hintless_refresh_token)


@twin(
    "steps-bearer-revoked-token-403-revocation-busy-once",
    ("rfc6750",),
    set(),
    warns={"RFC6750-3.1-INVALID-TOKEN"},  # a SHOULD (RFC 6750 section 3.1)
    note="a 503 to the first revocation of an access token made the test not_tested; the 403 behind it hid",
)
def bearer_revoked_token_403(app: ASGIApp) -> ASGIApp:
    """An access token's first revocation is answered 503; a revoked one gets 403 at the API, not 401."""
    issued, revoked = Issued(), set[str]()
    served = revocations(app, issued, revoked, lambda pairs: first(pairs, "token_type_hint") == "access_token")

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(API):
            value = header(scope, b"authorization") or ""
            if value.startswith("Bearer ") and value.removeprefix("Bearer ") in revoked:
                await send_answer(send, (403, [(b"content-type", b"text/plain")], b"forbidden"))
                return
        await served(scope, receive, send)

    return wrapped


@twin(
    "steps-introspection-revoked-active-control-busy-once",
    ("rfc7662",),
    {"RFC7662-4-REVOKED"},
    options=INTROSPECTION,
    note="a 503 to the first introspection of each fresh token made every test with that control"
    " not_tested; the revoked access token reported active hid",
)
def introspection_revoked_active(app: ASGIApp) -> ASGIApp:
    """Each token's first introspection without a hint is answered 503, and a revoked access token
    is reported active."""
    issued, revoked, asked = Issued(), set[str](), FirstAsk()
    served = revocations(app, issued, revoked, lambda pairs: False)  # revocations themselves are not disturbed

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        pairs = form_of(body)
        token = first(pairs, "token")
        if first(pairs, "token_type_hint") is None and issued.kinds.get(token or "") and asked.first(token):
            return busy()
        answer = await forward(scope, body)
        if answer[0] == 200 and token in revoked and issued.of_kind(token, "access_token"):
            return json_answer(200, {"active": True})
        return answer

    return intercept(served, path_is(INTROSPECT, "POST"), handle)
