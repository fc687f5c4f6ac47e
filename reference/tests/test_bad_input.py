"""Bad input gets the right OAuth error, never a 500, and never changes what is stored.

Every case runs against a store holding a live grant, a pending code and three clients; the whole
store (every key and value) is compared before and after the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from oauth_reference.machinery.asgi import Message
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import TOKEN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import basic
from reference.tests.conftest import dump_store

pytestmark = pytest.mark.anyio

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


@dataclass
class World:
    env: Env
    public: str
    pending: str
    other: str
    confidential: str
    secret: str
    code: str
    verifier: str
    access: str
    refresh: str

    def fill(self, text: str) -> str:
        """Replace ``<name>`` placeholders with this world's values."""
        for name in ("public", "pending", "other", "confidential", "code", "verifier", "access", "refresh"):
            text = text.replace(f"<{name}>", getattr(self, name))
        return text.replace("<redirect>", REDIRECT)


@pytest.fixture
async def world(make_env: EnvFactory) -> World:
    env = make_env()
    public = (await env.register())["client_id"]
    pending = (await env.register())["client_id"]
    other = (await env.register())["client_id"]
    confidential = await env.register(token_endpoint_auth_method="client_secret_basic")
    tokens = await env.tokens(public, scope="profile")
    code, verifier = await env.code(pending, scope="profile")
    return World(
        env,
        public,
        pending,
        other,
        confidential["client_id"],
        confidential["client_secret"],
        code,
        verifier,
        tokens["access_token"],
        tokens["refresh_token"],
    )


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    error: str | None = None
    body: str | bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    basic_auth: bool = False


def form(text: str, status: int, error: str | None, id: str, **kwargs: Any) -> Case:
    return Case(id, "POST", TOKEN, status, error, text, tuple(FORM.items()), **kwargs)


TOKEN_CASES = [
    Case("token GET", "GET", TOKEN, 405, "invalid_request"),
    Case("token PUT", "PUT", TOKEN, 405, "invalid_request"),
    Case(
        "token JSON body",
        "POST",
        TOKEN,
        400,
        "invalid_request",
        '{"grant_type": "authorization_code"}',
        tuple(JSON.items()),
    ),
    Case(
        "token no content type",
        "POST",
        TOKEN,
        400,
        "invalid_request",
        "grant_type=authorization_code&client_id=<public>",
    ),
    Case("token text/plain", "POST", TOKEN, 400, "invalid_request", "grant_type=x", (("Content-Type", "text/plain"),)),
    Case(
        "token multipart",
        "POST",
        TOKEN,
        400,
        "invalid_request",
        "--b\r\nContent-Disposition: form-data; name=grant_type\r\n\r\nx\r\n--b--",
        (("Content-Type", "multipart/form-data; boundary=b"),),
    ),
    form(
        "grant_type=authorization_code&grant_type=refresh_token&client_id=<public>",
        400,
        "invalid_request",
        "duplicate grant_type",
    ),
    form(
        "grant_type=refresh_token&refresh_token=<refresh>&client_id=<public>&client_id=<public>",
        400,
        "invalid_request",
        "duplicate client_id",
    ),
    form(
        "grant_type=authorization_code&code=<code>&code=<code>&client_id=<pending>&code_verifier=<verifier>",
        400,
        "invalid_request",
        "duplicate code",
    ),
    form(
        "grant_type=refresh_token&refresh_token=<refresh>&refresh_token=<refresh>&client_id=<public>",
        400,
        "invalid_request",
        "duplicate refresh_token",
    ),
    Case(
        "token non-UTF-8 body",
        "POST",
        TOKEN,
        400,
        "invalid_request",
        b"grant_type=\xff\xfe&client_id=x",
        tuple(FORM.items()),
    ),
    form("grant_type=%FF%FE&client_id=<public>", 400, "invalid_request", "percent-encoded non-UTF-8"),
    form("&".join(f"p{i}=v" for i in range(101)) + "&client_id=<public>", 400, "invalid_request", "too many fields"),
    form("client_id=<public>&grant_type=" + "x" * 70_000, 413, "invalid_request", "oversized body"),
    form("client_id=<public>", 400, "invalid_request", "missing grant_type"),
    form(
        "client_id=<public>&grant_type=password&username=a&password=b", 400, "unsupported_grant_type", "password grant"
    ),
    form("client_id=<public>&grant_type=client_credentials", 400, "unsupported_grant_type", "client_credentials"),
    form(
        "client_id=<public>&grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=<access>",
        400,
        "unsupported_grant_type",
        "token exchange (off)",
    ),
    form("client_id=<public>&grant_type=" + "g" * 5000, 400, "unsupported_grant_type", "huge grant_type"),
    form("", 401, "invalid_client", "empty body"),
    form("&&&===&=&", 401, "invalid_client", "only separators"),
    form("grant_type=authorization_code&code=garbage&client_id=<public>", 400, "invalid_grant", "garbage code"),
    form(
        "grant_type=authorization_code&code=a%00b:c%00d:e&client_id=<public>",
        400,
        "invalid_grant",
        "code with NUL bytes",
    ),
    form(
        "grant_type=authorization_code&code=<code>&client_id=<pending>&code_verifier=" + "A" * 43,
        400,
        "invalid_grant",
        "wrong verifier",
    ),
    form("grant_type=authorization_code&code=<code>&client_id=<pending>", 400, "invalid_grant", "missing verifier"),
    form(
        "grant_type=authorization_code&code=<code>&client_id=<public>&code_verifier=<verifier>",
        400,
        "invalid_grant",
        "code of another client",
    ),
    form(
        "grant_type=authorization_code&code=<code>&client_id=<pending>&code_verifier=<verifier>&redirect_uri=https://evil.example/cb",
        400,
        "invalid_grant",
        "code with wrong redirect_uri",
    ),
    form(
        "grant_type=authorization_code&code=<code>&client_id=<pending>&code_verifier=<verifier>&scope=admin",
        400,
        "invalid_scope",
        "code with wider scope",
    ),
    form(
        "grant_type=authorization_code&code=<code>&client_id=<pending>&code_verifier=<verifier>&resource=https://x.example/",
        400,
        "invalid_target",
        "code with other resource",
    ),
    form(
        "grant_type=authorization_code&code=<code>&client_id=<pending>&code_verifier=<verifier>&resource=not%20a%20uri",
        400,
        "invalid_target",
        "code with malformed resource",
    ),
    form("grant_type=authorization_code&client_id=<public>", 400, "invalid_request", "missing code"),
    form(
        "grant_type=refresh_token&refresh_token=garbage&client_id=<public>",
        400,
        "invalid_grant",
        "garbage refresh token",
    ),
    form(
        "grant_type=refresh_token&refresh_token=<access>&client_id=<public>",
        400,
        "invalid_grant",
        "access token as refresh token",
    ),
    form(
        "grant_type=refresh_token&refresh_token=<refresh>&client_id=<other>",
        400,
        "invalid_grant",
        "refresh of another client",
    ),
    form(
        "grant_type=refresh_token&refresh_token=<refresh>&client_id=<public>&scope=profile%20admin",
        400,
        "invalid_scope",
        "refresh with wider scope",
    ),
    form(
        "grant_type=refresh_token&refresh_token=<refresh>&client_id=<public>&scope=bad%22scope",
        400,
        "invalid_scope",
        "refresh with malformed scope",
    ),
    form(
        "grant_type=refresh_token&refresh_token=<refresh>&client_id=<public>&resource=https://x.example/",
        400,
        "invalid_target",
        "refresh with other resource",
    ),
    form("grant_type=refresh_token&refresh_token=<refresh>&client_id=nobody", 401, "invalid_client", "unknown client"),
    form(
        "grant_type=refresh_token&refresh_token=<refresh>&client_id=<public>&client_secret=x",
        401,
        "invalid_client",
        "public client with secret",
    ),
    form(
        "grant_type=refresh_token&refresh_token=<refresh>&client_id=<confidential>",
        401,
        "invalid_client",
        "confidential without secret",
    ),
    Case(
        "malformed Basic",
        "POST",
        TOKEN,
        401,
        "invalid_client",
        "grant_type=refresh_token&refresh_token=<refresh>",
        (*FORM.items(), ("Authorization", "Basic %%%")),
    ),
    Case(
        "Basic plus client_secret",
        "POST",
        TOKEN,
        400,
        "invalid_request",
        "grant_type=refresh_token&refresh_token=<refresh>&client_secret=x",
        tuple(FORM.items()),
        basic_auth=True,
    ),
    form("token=garbage&client_id=<public>", 200, None, "revoke unknown token"),
    form("token=<access>&client_id=<other>", 200, None, "revoke another client's access token"),
    form("token=<refresh>&client_id=<other>", 200, None, "revoke another client's refresh token"),
    form("token=<access>", 401, "invalid_client", "revoke without client"),
]

REGISTRATION_CASES = [
    Case("register GET", "GET", "/oauth/register", 405, "invalid_request"),
    Case(
        "register invalid JSON", "POST", "/oauth/register", 400, "invalid_client_metadata", "{nope", tuple(JSON.items())
    ),
    Case(
        "register non-UTF-8",
        "POST",
        "/oauth/register",
        400,
        "invalid_client_metadata",
        b'{"a": "\xff"}',
        tuple(JSON.items()),
    ),
    Case("register array", "POST", "/oauth/register", 400, "invalid_client_metadata", "[1, 2]", tuple(JSON.items())),
    Case(
        "register deep nesting",
        "POST",
        "/oauth/register",
        400,
        "invalid_client_metadata",
        "[" * 5000 + "]" * 5000,
        tuple(JSON.items()),
    ),
    Case(
        "register form",
        "POST",
        "/oauth/register",
        400,
        "invalid_client_metadata",
        "redirect_uris=<redirect>",
        tuple(FORM.items()),
    ),
    Case(
        "register oversized",
        "POST",
        "/oauth/register",
        413,
        "invalid_request",
        '{"client_name": "' + "x" * (1 << 20) + '"}',
        tuple(JSON.items()),
    ),
    Case(
        "register bad redirect",
        "POST",
        "/oauth/register",
        400,
        "invalid_redirect_uri",
        '{"redirect_uris": ["javascript:x"]}',
        tuple(JSON.items()),
    ),
    Case(
        "register bad method",
        "POST",
        "/oauth/register",
        400,
        "invalid_client_metadata",
        '{"redirect_uris": ["<redirect>"], "token_endpoint_auth_method": "tls_client_auth"}',
        tuple(JSON.items()),
    ),
]

OTHER_CASES = [
    Case("authorize non-UTF-8 query", "GET", "/authorize?client_id=%FF%FE&response_type=code", 400),
    Case("authorize nothing", "GET", "/authorize", 400),
    Case("authorize unknown client", "GET", "/authorize?client_id=nobody&response_type=code", 400),
    Case("authorize too many params", "GET", "/authorize?" + "&".join(f"p{i}=v" for i in range(150)), 400),
    Case(
        "authorize bad redirect",
        "GET",
        "/authorize?client_id=<public>&response_type=code&redirect_uri=https://evil.example/",
        400,
    ),
    Case(
        "authorize without PKCE",
        "GET",
        "/authorize?client_id=<public>&response_type=code&redirect_uri=<redirect>&state=s",
        302,
    ),
    Case(
        "authorize bad challenge",
        "GET",
        "/authorize?client_id=<public>&response_type=code&code_challenge=short&code_challenge_method=S256",
        302,
    ),
    Case(
        "authorize unknown scope",
        "GET",
        "/authorize?client_id=<public>&response_type=code&code_challenge="
        + "a" * 43
        + "&code_challenge_method=S256&scope=root",
        302,
    ),
    Case("api garbage token", "GET", "/api/whoami", 401, "invalid_token", None, (("Authorization", "Bearer garbage"),)),
    Case(
        "api refresh token", "GET", "/api/whoami", 401, "invalid_token", None, (("Authorization", "Bearer <refresh>"),)
    ),
    Case("api no token", "GET", "/api/whoami", 401),
    Case("metadata POST", "POST", "/.well-known/oauth-authorization-server", 405),
    Case(
        "metadata bad Host",
        "GET",
        "/.well-known/oauth-authorization-server",
        400,
        "invalid_request",
        None,
        (("Host", "a b"),),
    ),
    Case(
        "token bad Host", "POST", TOKEN, 400, "invalid_request", "client_id=<public>", (*FORM.items(), ("Host", "x/y"))
    ),
]


def _ids(cases: list[Case]) -> Iterator[Any]:
    for case in cases:
        yield pytest.param(case, id=case.id)


async def _send(world: World, case: Case) -> httpx.Response:
    headers = [(k, world.fill(v)) for k, v in case.headers]
    if case.basic_auth:
        headers += list(basic(world.confidential, world.secret).items())
    body = world.fill(case.body).encode() if isinstance(case.body, str) else case.body
    return await world.env.http.request(case.method, world.fill(case.path), content=body, headers=headers)


@pytest.mark.parametrize("case", [*_ids(TOKEN_CASES), *_ids(REGISTRATION_CASES), *_ids(OTHER_CASES)])
async def test_bad_input_gets_the_right_error_and_leaves_storage_unchanged(world: World, case: Case) -> None:
    before = await dump_store(world.env.storage)
    response = await _send(world, case)
    after = await dump_store(world.env.storage)
    assert response.status_code < 500
    assert response.status_code == case.status, response.text
    if case.error is not None:
        assert response.json()["error"] == case.error
        assert response.headers["cache-control"] == "no-store"
    assert after == before


async def test_a_streamed_oversized_body_is_refused_without_reading_it_all(world: World) -> None:
    chunks_sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        yield f"client_id={world.public}&grant_type=".encode()
        for _ in range(1000):
            chunks_sent += 1
            yield b"x" * 4096

    before = await dump_store(world.env.storage)
    response = await world.env.http.post(TOKEN, content=chunks(), headers=FORM)
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    assert await dump_store(world.env.storage) == before


async def _raw(env: Env, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
    """Call the ASGI app directly, for headers an HTTP client would not send."""
    messages: list[Message] = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": TOKEN,
        "raw_path": TOKEN.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "scheme": "http",
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    await env.provider(scope, receive, send)
    return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])


@pytest.mark.parametrize(
    ("content_length", "status"),
    [(b"abc", 400), (b"99999999999", 413), (b"-1", 401)],
)
async def test_a_bogus_content_length_is_a_client_error(world: World, content_length: bytes, status: int) -> None:
    before = await dump_store(world.env.storage)
    got, body = await _raw(
        world.env,
        [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", content_length)],
        b"",
    )
    assert got == status
    assert b"server_error" not in body
    assert await dump_store(world.env.storage) == before


async def test_the_form_content_type_may_carry_a_charset_in_any_case(world: World) -> None:
    response = await world.env.http.post(
        TOKEN,
        content=f"grant_type=refresh_token&refresh_token={world.refresh}&client_id={world.public}".encode(),
        headers={"Content-Type": "Application/X-WWW-Form-URLEncoded; charset=UTF-8"},
    )
    assert response.status_code == 200


async def test_the_store_comparison_notices_a_real_change(world: World) -> None:
    """The control for the cases above: a good request does change the snapshot."""
    before = await dump_store(world.env.storage)
    response = await world.env.refresh(world.public, world.refresh)
    assert response.status_code == 200
    assert await dump_store(world.env.storage) != before
