"""``on_error``: the hook that sees every OAuth error response and may replace it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from oauth_reference import ConfigurationError
from oauth_reference import ErrorEvent
from oauth_reference.error_hook import OnErrorHook
from oauth_reference.machinery.asgi import Response
from reference.tests.conftest import TOKEN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import bare_provider

pytestmark = pytest.mark.anyio

SECRET_IN_MESSAGE = "hook-secret-value-0123456789"


def _env(make_env: EnvFactory, hook: OnErrorHook) -> Env:
    return make_env({"on_error": hook})


async def _bad_code(env: Env) -> tuple[str, dict[str, str]]:
    client_id = (await env.register())["client_id"]
    data = {"grant_type": "authorization_code", "code": "u:g:nope", "code_verifier": "x" * 43, "client_id": client_id}
    return client_id, data


async def test_a_token_endpoint_error_reaches_the_hook_with_its_code_and_status(make_env: EnvFactory) -> None:
    seen: list[ErrorEvent] = []
    env = _env(make_env, seen.append)
    _, data = await _bad_code(env)
    response = await env.token(data)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    [event] = seen
    assert (event.code, event.status, event.method, event.path) == ("invalid_grant", 400, "POST", TOKEN)
    assert event.description == response.json().get("error_description")
    assert event.headers["cache-control"] == "no-store"
    assert event.headers["content-type"] == "application/json"


async def test_an_unknown_client_at_the_token_endpoint_is_a_401_event(make_env: EnvFactory) -> None:
    seen: list[ErrorEvent] = []
    env = _env(make_env, seen.append)
    response = await env.token({"grant_type": "authorization_code", "code": "c", "client_id": "nobody"})
    assert response.status_code == 401
    assert [(e.code, e.status) for e in seen] == [("invalid_client", 401)]


async def test_an_invalid_token_on_an_api_route_reaches_the_hook_with_its_challenge(make_env: EnvFactory) -> None:
    seen: list[ErrorEvent] = []
    env = _env(make_env, seen.append)
    response = await env.api("u:g:not-a-live-token")
    assert response.status_code == 401
    [event] = seen
    assert (event.code, event.status, event.path) == ("invalid_token", 401, "/api/whoami")
    assert event.headers["www-authenticate"] == response.headers["www-authenticate"]
    assert 'error="invalid_token"' in event.headers["www-authenticate"]


async def test_a_request_without_credentials_is_not_an_oauth_error_and_skips_the_hook(make_env: EnvFactory) -> None:
    """The bare challenge carries no error code (RFC 6750 section 3.1), as in the library."""
    seen: list[ErrorEvent] = []
    env = _env(make_env, seen.append)
    response = await env.http.get("/api/whoami")
    assert response.status_code == 401
    assert seen == []


async def test_registration_and_method_errors_reach_the_hook(make_env: EnvFactory) -> None:
    seen: list[ErrorEvent] = []
    env = _env(make_env, seen.append)
    bad = await env.http.post("/oauth/register", json={"redirect_uris": ["javascript:alert(1)"]})
    wrong_method = await env.http.get(TOKEN)
    assert (bad.status_code, wrong_method.status_code) == (400, 405)
    assert [(e.code, e.status) for e in seen] == [("invalid_redirect_uri", 400), ("invalid_request", 405)]
    assert seen[1].headers["allow"] == "POST, OPTIONS"


async def test_a_returned_response_replaces_the_default(make_env: EnvFactory) -> None:
    override = Response(418, b'{"error":"custom"}', [(b"content-type", b"application/json")])
    env = _env(make_env, lambda event: override)
    _, data = await _bad_code(env)
    response = await env.token(data, headers={"Origin": "https://app.example"})
    assert response.status_code == 418
    assert response.json() == {"error": "custom"}
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    again = await env.api("u:g:not-a-live-token")
    assert again.status_code == 418
    assert override.headers == [(b"content-type", b"application/json")]  # the hook's object is not modified


async def test_an_async_hook_may_replace_the_response(make_env: EnvFactory) -> None:
    async def hook(event: ErrorEvent) -> Response | None:
        return Response(event.status, b"replaced", [(b"content-type", b"text/plain")])

    env = _env(make_env, hook)
    response = await env.api("u:g:not-a-live-token")
    assert (response.status_code, response.text) == (401, "replaced")


async def test_returning_none_keeps_the_default_response(make_env: EnvFactory) -> None:
    plain = make_env()
    hooked = _env(make_env, lambda event: None)
    results = []
    for env in (plain, hooked):
        _, data = await _bad_code(env)
        response = await env.token(data)
        results.append((response.status_code, response.json(), response.headers["cache-control"]))
    assert results[0] == results[1]
    assert results[1][1]["error"] == "invalid_grant"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_raising_hook_still_sends_the_spec_error_and_logs_no_secrets(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture, is_async: bool
) -> None:
    def failing(event: ErrorEvent) -> Response | None:
        raise RuntimeError(SECRET_IN_MESSAGE)

    async def failing_async(event: ErrorEvent) -> Response | None:
        raise RuntimeError(SECRET_IN_MESSAGE)

    env = _env(make_env, failing_async if is_async else failing)
    _, data = await _bad_code(env)
    with caplog.at_level(logging.DEBUG, logger="oauth_reference"):
        response = await env.token(data)
        api = await env.api("u:g:not-a-live-token")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["cache-control"] == "no-store"
    assert api.status_code == 401
    assert 'error="invalid_token"' in api.headers["www-authenticate"]
    assert "RuntimeError" in caplog.text
    assert SECRET_IN_MESSAGE not in caplog.text
    assert data["code"] not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


async def test_a_hook_returning_something_else_keeps_the_default(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    env = _env(make_env, lambda event: {"error": "not a response"})
    with caplog.at_level(logging.ERROR, logger="oauth_reference"):
        response = await env.api("u:g:not-a-live-token")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert "dict" in caplog.text


async def test_the_hook_is_not_called_on_success(make_env: EnvFactory) -> None:
    seen: list[ErrorEvent] = []
    env = _env(make_env, seen.append)
    client_id = (await env.register())["client_id"]
    tokens = await env.tokens(client_id, scope="profile")
    assert (await env.api(tokens["access_token"])).status_code == 200
    assert (await env.refresh(client_id, tokens["refresh_token"])).status_code == 200
    assert (await env.revoke(client_id, tokens["access_token"])).status_code == 200
    assert (await env.http.get("/.well-known/oauth-authorization-server")).status_code == 200
    assert seen == []


async def test_a_starlette_or_fastapi_response_replaces_the_default(make_env: EnvFactory) -> None:
    """Issue 15, item 7: the response classes a Starlette or FastAPI application already uses."""
    from fastapi.responses import JSONResponse as FastAPIJSONResponse
    from starlette.responses import PlainTextResponse

    def hook(event: ErrorEvent) -> object:
        if event.code == "invalid_grant":
            return FastAPIJSONResponse({"problem": event.code}, status_code=409, headers={"X-Trace": "t-1"})
        return PlainTextResponse("token trouble", status_code=event.status, headers=dict(event.headers))

    env = _env(make_env, hook)
    _, data = await _bad_code(env)
    response = await env.token(data, headers={"Origin": "https://app.example"})
    assert (response.status_code, response.json()) == (409, {"problem": "invalid_grant"})
    assert response.headers["x-trace"] == "t-1"
    assert response.headers["access-control-allow-origin"] == "https://app.example"  # CORS, as for the default
    api = await env.api("u:g:not-a-live-token")
    assert (api.status_code, api.text) == (401, "token trouble")
    assert 'error="invalid_token"' in api.headers["www-authenticate"]
    assert api.headers["content-length"] == str(len("token trouble"))


async def test_a_streaming_response_without_a_body_keeps_the_default(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    from starlette.responses import StreamingResponse

    async def chunks() -> Any:
        yield b"x"

    env = _env(make_env, lambda event: StreamingResponse(chunks()))
    with caplog.at_level(logging.ERROR, logger="oauth_reference"):
        response = await env.api("u:g:not-a-live-token")
    assert response.json()["error"] == "invalid_token"
    assert "StreamingResponse" in caplog.text


async def test_without_a_hook_each_error_is_logged_as_a_warning_like_the_seeds_default(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env()
    _, data = await _bad_code(env)
    with caplog.at_level(logging.WARNING, logger="oauth_reference"):
        await env.token(data)
    [record] = [r for r in caplog.records if r.name == "oauth_reference"]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("OAuth error response: 400 invalid_grant - ")
    assert data["code"] not in caplog.text


async def test_a_hook_replaces_the_default_warning(make_env: EnvFactory, caplog: pytest.LogCaptureFixture) -> None:
    env = _env(make_env, lambda event: None)
    _, data = await _bad_code(env)
    with caplog.at_level(logging.WARNING, logger="oauth_reference"):
        await env.token(data)
    assert "OAuth error response" not in caplog.text


def test_on_error_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="on_error"):
        bare_provider(on_error="log it")
