"""``OAuthError`` in the seed's shape, raised from callbacks and handlers (issue 15, item 6).

The seed writes ``new OAuthError('invalid_grant', {description, statusCode, headers})``; in Python
that is ``OAuthError("invalid_grant", description=..., status_code=..., headers=...)``. The
classes of ``oauth_reference.errors`` (also importable from ``oauth_reference``) fix the code.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import oauth_reference
from oauth_reference import InsufficientScopeError
from oauth_reference import InvalidGrantError
from oauth_reference import OAuthError
from oauth_reference import OAuthProvider
from oauth_reference import TokenExchangeCallbackOptions
from oauth_reference import api_context
from oauth_reference import errors
from oauth_reference import oauth_error_handler
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import load_grant

pytestmark = pytest.mark.anyio


def test_the_seeds_shape_names_the_code_first() -> None:
    error = OAuthError("invalid_grant", description="upstream refresh token is invalid")
    assert (error.code, error.error, error.description, error.status_code) == (
        "invalid_grant",
        "invalid_grant",
        "upstream refresh token is invalid",
        400,
    )
    limited = OAuthError(
        "temporarily_unavailable", description="upstream rate limited", status_code=429, headers={"Retry-After": "60"}
    )
    assert (limited.status_code, limited.headers) == (429, {"Retry-After": "60"})
    assert OAuthError("invalid_grant", "positional description").description == "positional description"
    assert OAuthError("app_specific_code").body() == {"error": "app_specific_code"}


def test_the_classes_fix_their_code_and_take_the_description() -> None:
    assert InvalidGrantError("gone").body() == {"error": "invalid_grant", "error_description": "gone"}
    assert InvalidGrantError(description="gone").description == "gone"
    assert InsufficientScopeError("more", scope=["documents.write"]).status_code == 403
    assert InvalidGrantError("x", status=401).status_code == InvalidGrantError("x", status_code=401).status_code


@pytest.mark.parametrize(
    ("args", "kwargs", "problem"),
    [
        ((), {}, ValueError),
        (("bad\ncode",), {}, ValueError),
        (("",), {}, ValueError),
        (("invalid_grant",), {"status_code": 200}, ValueError),
        (("invalid_grant",), {"status_code": 400, "status": 401}, TypeError),
        (("invalid_grant", "a", "b"), {}, TypeError),
        (("invalid_grant", "a"), {"description": "b"}, TypeError),
    ],
)
def test_malformed_errors_are_refused_where_they_are_made(args: Any, kwargs: Any, problem: type[Exception]) -> None:
    with pytest.raises(problem):
        OAuthError(*args, **kwargs)


def test_every_error_class_is_exported_from_the_package() -> None:
    for name, value in vars(errors).items():
        if isinstance(value, type) and issubclass(value, OAuthError):
            assert getattr(oauth_reference, name) is value, name
            assert name in oauth_reference.__all__


async def _refresh_with(make_env: EnvFactory, callback: Any) -> tuple[Env, dict[str, Any], httpx.Response]:
    env = make_env({"token_exchange_callback": callback})
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    return env, tokens, await env.refresh(client["client_id"], tokens["refresh_token"])


async def test_a_seed_shaped_error_from_the_callback_is_the_token_response(make_env: EnvFactory) -> None:
    def callback(options: TokenExchangeCallbackOptions) -> None:
        if options.grant_type == "refresh_token":
            raise OAuthError(
                "temporarily_unavailable",
                description="upstream rate limited",
                status_code=429,
                headers={"Retry-After": "60"},
            )

    env, tokens, response = await _refresh_with(make_env, callback)
    assert response.status_code == 429
    assert response.json() == {"error": "temporarily_unavailable", "error_description": "upstream rate limited"}
    assert response.headers["retry-after"] == "60"
    assert response.headers["cache-control"] == "no-store"
    assert await load_grant(env.storage, tokens["refresh_token"]) is not None


async def test_a_seed_shaped_invalid_grant_revokes_the_grant_like_the_class(make_env: EnvFactory) -> None:
    def callback(options: TokenExchangeCallbackOptions) -> None:
        if options.grant_type == "refresh_token":
            raise OAuthError("invalid_grant", description="upstream refresh token is invalid")

    env, tokens, response = await _refresh_with(make_env, callback)
    assert response.json() == {"error": "invalid_grant", "error_description": "upstream refresh token is invalid"}
    assert await load_grant(env.storage, tokens["refresh_token"]) is None


async def test_a_plain_exception_from_the_callback_stays_a_500(make_env: EnvFactory) -> None:
    def callback(options: TokenExchangeCallbackOptions) -> None:
        if options.grant_type == "refresh_token":
            raise RuntimeError("a bug")

    _, _, response = await _refresh_with(make_env, callback)
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


def _handler_app() -> Starlette:
    async def documents(request: Request) -> JSONResponse:
        grant = api_context(request.scope)
        if "documents.write" not in grant.scope:
            raise InsufficientScopeError("writing needs documents.write", scope=["documents.write"])
        return JSONResponse({"written": True})

    async def page(request: Request) -> JSONResponse:
        raise OAuthError("access_denied", description="the page is closed", status_code=403)

    return Starlette(
        routes=[Route("/api/documents", documents), Route("/closed", page)],
        exception_handlers={OAuthError: oauth_error_handler},
    )


async def test_an_oauth_error_raised_by_a_starlette_api_handler_gets_the_bearer_challenge(env: Env) -> None:
    app = _handler_app()
    provider = OAuthProvider(
        api_route="/api/",
        api_handler=app,
        default_handler=app,
        authorize_endpoint="/authorize",
        token_endpoint="/oauth/token",
        resolve_external_token=lambda found: {"props": {}, "scope": ["documents.read"]},
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=provider), base_url=ORIGIN) as http:
        response = await http.get("/api/documents", headers={"Authorization": "Bearer from-elsewhere"})
        assert response.status_code == 403
        assert response.json() == {"error": "insufficient_scope", "error_description": "writing needs documents.write"}
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="OAuth", resource_metadata="')
        assert 'scope="documents.write", error="insufficient_scope"' in challenge
        assert response.headers["cache-control"] == "no-store"
        closed = await http.get("/closed")
        assert closed.status_code == 403
        assert closed.json()["error"] == "access_denied"
        assert "www-authenticate" not in closed.headers  # not an API route: no Bearer challenge
