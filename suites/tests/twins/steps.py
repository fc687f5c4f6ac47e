"""Twins whose server fault on a test's way hid a broken check (a step answered 503 once).

Each answers the first request of one step (per token) with a 503, as a busy server may, and breaks
the behaviour the test checks after that step. A harness that read the 503 as "the step failed"
ended the test not_tested and missed the broken behaviour; one that asks again (RFC 7009 section
2.2.1 lets a client retry a 503) reaches the check, and fails it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.dpop import OPTIONS as DPOP
from suites.tests.twins.extensions import JWT_BEARER
from suites.tests.twins.extensions import RESPONSE as IDJAG_RESPONSE
from suites.tests.twins.extensions import dropping
from suites.tests.twins.extensions import idjag_claims
from suites.tests.twins.extensions import idjag_resource_unbounded
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
from suites.tests.twins.wire import json_of
from suites.tests.twins.wire import on_token
from suites.tests.twins.wire import path_is
from suites.tests.twins.wire import query_of
from suites.tests.twins.wire import replaced
from suites.tests.twins.wire import send_answer
from suites.tests.twins.wire import with_json

API = "/api/"
PRM = "/.well-known/oauth-protected-resource"
AS_METADATA = "/.well-known/oauth-authorization-server"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
EXCHANGE = ("rfc8693",)
MCP_RESOURCE = ("mcp.test_resource_server",)


def busy() -> Answer:
    return json_answer(503, {"error": "temporarily_unavailable", "error_description": "try again"})


async def answer_busy(send: Send) -> None:
    await send_answer(send, busy())


async def busy_instead(scope: Scope, body: bytes, forward: Forward) -> Answer:
    """An ``intercept`` handler: the request is answered 503, the reference never sees it."""
    return busy()


def is_exchange(pairs: Pairs) -> bool:
    return first(pairs, "grant_type") == TOKEN_EXCHANGE


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


# ------------------------------------------------------------------------------------ RFC 8693
@twin(
    "steps-exchange-for-an-access-token-busy",
    EXCHANGE,
    set(),
    features=True,
    warns={"RFC8693-2.1-GRANT"},  # a SHOULD (RFC 8693 section 2.1 leaves the grant optional)
    note="a 503 to every exchange naming requested_token_type made the check of the exchanged token a"
    " silent not_tested",
)
def exchange_for_an_access_token_busy(app: ASGIApp) -> ASGIApp:
    """A token exchange that names requested_token_type is answered 503, every time."""

    async def handle(scope: Scope, pairs: Pairs, forward: PairsForward) -> Answer:
        if is_exchange(pairs) and first(pairs, "requested_token_type"):
            return busy()
        return await forward(scope, pairs)

    return on_token(app, handle)


@twin(
    "steps-exchange-first-answer-without-access-token",
    EXCHANGE,
    {"RFC8693-2.2.1-RESPONSE"},
    features=True,
    warns={"RFC8693-2.1-GRANT"},  # the exchanged "token" the resource is shown is no token
    note="the first exchange of each subject token answered 200 without an access_token: every test"
    " built on the plain exchange was a silent not_tested",
)
def exchange_first_answer_without_access_token(app: ASGIApp) -> ASGIApp:
    """The first successful exchange of each subject token answers 200 without its access_token."""
    asked = FirstAsk()

    async def handle(scope: Scope, pairs: Pairs, forward: PairsForward) -> Answer:
        answer = await forward(scope, pairs)
        data = json_of(answer)
        if is_exchange(pairs) and answer[0] == 200 and data is not None and asked.first(first(pairs, "subject_token")):
            return with_json(answer, {k: v for k, v in data.items() if k != "access_token"})
        return answer

    return on_token(app, handle)


# ------------------------------------------------------------------------------------ RFC 8707
@twin(
    "steps-resource-indicator-introspection-inactive",
    ("rfc8707",),
    {"RFC7662-2.2-ACTIVE"},
    options=INTROSPECTION,
    note="introspecting a client's own fresh token answered active false: the audience and scope checks"
    " that read it were a silent not_tested",
)
def resource_indicator_introspection_inactive(app: ASGIApp) -> ASGIApp:
    """Every introspection answers 200 with active false."""

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        return json_answer(200, {"active": False})

    return intercept(app, path_is(INTROSPECT, "POST"), handle)


# ----------------------------------------------------------------------------------------- MCP
@twin(
    "steps-mcp-anonymous-busy-after-a-token",
    MCP_RESOURCE,
    {"MCP-ERR-401"},
    note="once a token had been presented, requests without one were answered 503: the scope check's"
    " step was a silent not_tested",
)
def mcp_anonymous_busy_after_a_token(app: ASGIApp) -> ASGIApp:
    """Once a request with a bearer token has reached the API, a request without any token gets 503."""
    presented: list[bool] = []

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(API):
            if (header(scope, b"authorization") or "").startswith("Bearer "):
                presented.append(True)
            elif presented and first(query_of(scope), "access_token") is None:
                await answer_busy(send)
                return
        await app(scope, receive, send)

    return wrapped


@twin(
    "steps-mcp-resource-metadata-busy",
    MCP_RESOURCE,
    {"MCP-PRM-DISCOVERY"},
    note="the challenge names the resource metadata, which answers 503: the check of its authorization"
    " servers was a silent not_tested",
)
def mcp_resource_metadata_busy(app: ASGIApp) -> ASGIApp:
    """Every resource metadata document answers 503 (the challenge still names one)."""
    return intercept(app, lambda scope: str(scope["path"]).startswith(PRM), busy_instead)


# ------------------------------------------------------------------------------------ RFC 9728
HANG_SECONDS = 18.0  # longer than the harness's read timeout (oauth_conformance/http.py: 15 s)


def after_resource_metadata(app: ASGIApp, disturb: Callable[[Send], Awaitable[None]]) -> ASGIApp:
    """The first authorization server metadata request after each resource metadata fetch is
    ``disturb``ed (its awaitable answers it); every other request is served."""
    pending: list[bool] = []

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(PRM):
            pending[:] = [True]
        elif scope["type"] == "http" and str(scope["path"]).startswith(AS_METADATA) and pending:
            pending.clear()
            await disturb(send)
            return
        await app(scope, receive, send)

    return wrapped


@twin(
    "steps-resource-metadata-issuer-busy-once",
    ("rfc9728",),
    set(),
    note="a control: the listed authorization server's metadata answered 503 once, then its metadata;"
    " read once, it made the issuer check fail",
)
def resource_metadata_issuer_busy_once(app: ASGIApp) -> ASGIApp:
    """The first authorization server metadata request after a resource metadata fetch gets 503."""
    return after_resource_metadata(app, answer_busy)


@twin(
    "steps-resource-metadata-issuer-hangs",
    ("rfc9728",),
    {"RFC9728-2-AS-ISSUERS"},
    note="the listed authorization server's metadata request was left unanswered once connected: the"
    " issuer check read it as a server it could not reach, a silent not_tested",
)
def resource_metadata_issuer_hangs(app: ASGIApp) -> ASGIApp:
    """The first authorization server metadata request after a resource metadata fetch is left
    unanswered longer than the harness waits (then answered 503)."""

    async def hang(send: Send) -> None:
        await asyncio.sleep(HANG_SECONDS)
        await answer_busy(send)

    return after_resource_metadata(app, hang)


# ------------------------------------------------------------------------------------ RFC 9449
@twin(
    "steps-dpop-resource-busy-for-bound-tokens",
    ("rfc9449.test_resource",),
    {"RFC9449-7.1-RESOURCE-CHECKS"},
    options=DPOP,
    note="the resource answered 503 to every DPoP request: each check of its proofs, whose valid-proof"
    " control came first, was a silent not_tested",
)
def dpop_resource_busy_for_bound_tokens(app: ASGIApp) -> ASGIApp:
    """The protected resource answers every request under the DPoP scheme with 503."""

    def dpop_at_the_api(scope: Scope) -> bool:
        return str(scope["path"]).startswith(API) and (header(scope, b"authorization") or "").startswith("DPoP ")

    return intercept(app, dpop_at_the_api, busy_instead)


@twin(
    "steps-dpop-introspection-inactive",
    ("rfc9449.test_binding",),
    {"RFC7662-2.2-ACTIVE"},
    options=DPOP,
    note="introspecting a client's own live DPoP-bound token answered active false: the check of the"
    " binding it reports was a silent not_tested",
)
def dpop_introspection_inactive(app: ASGIApp) -> ASGIApp:
    """Every introspection answers 200 with active false."""

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        return json_answer(200, {"active": False})

    return intercept(app, path_is(str(DPOP["introspection_endpoint"]), "POST"), handle)


@twin(
    "steps-idjag-resource-unbounded-api-busy-once",
    IDJAG_RESPONSE,
    {"IDJAG-4.4.1-RESOURCE"},
    features=True,
    faults=idjag_claims(dropping("resource")),
)
def idjag_resource_unbounded_api_busy_once(app: ASGIApp) -> ASGIApp:
    """An ID-JAG's resource bounds nothing (as idjag-resource-unbounded), and the API answers the
    first request with each token of the JWT bearer grant 503: the check's control, the token of an
    ID-JAG for the server's own resource, went not_tested on it and the unbounded token was never
    looked at."""
    issued, asked = set[str](), FirstAsk()

    async def observe(scope: Scope, pairs: Pairs, forward: PairsForward) -> Answer:
        answer = await forward(scope, pairs)
        token = (json_of(answer) or {}).get("access_token")
        if answer[0] == 200 and first(pairs, "grant_type") == JWT_BEARER and isinstance(token, str):
            issued.add(token)
        return answer

    def first_use_at_the_api(scope: Scope) -> bool:
        token = (header(scope, b"authorization") or "").removeprefix("Bearer ")
        return str(scope["path"]).startswith(API) and token in issued and asked.first(token)

    return intercept(on_token(idjag_resource_unbounded(app), observe), first_use_at_the_api, busy_instead)
