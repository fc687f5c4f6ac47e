"""``client_registration_callback`` and language-tagged metadata at registration (issue 15, item 8)."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_reference import ClientRegistrationCallbackOptions
from oauth_reference import ClientRegistrationCallbackResult
from oauth_reference import OAuthError
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory

pytestmark = pytest.mark.anyio

REGISTER = "/oauth/register"


def _env(make_env: EnvFactory, callback: Any) -> Env:
    return make_env({"client_registration_callback": callback})


async def _register(env: Env, **meta: Any) -> Any:
    body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", **meta}
    return await env.http.post(REGISTER, json=body, headers={"X-Initial-Access": "let-me-in"})


async def test_the_callback_sees_the_metadata_and_the_request_and_may_let_it_through(make_env: EnvFactory) -> None:
    seen: list[tuple[Any, bytes, str | None]] = []

    async def callback(options: ClientRegistrationCallbackOptions) -> None:
        seen.append(
            (options.client_metadata, await options.request.body(), options.request.headers.get("x-initial-access"))
        )

    env = _env(make_env, callback)
    response = await _register(env, client_name="Notes")
    assert response.status_code == 201
    [(metadata, body, header)] = seen
    assert metadata["client_name"] == "Notes"
    assert b'"client_name":"Notes"' in body.replace(b" ", b"")  # the raw bytes, for a signature check
    assert header == "let-me-in"


async def test_a_refusal_defaults_to_invalid_client_metadata_and_stores_nothing(make_env: EnvFactory) -> None:
    env = _env(make_env, lambda options: ClientRegistrationCallbackResult())
    response = await _register(env)
    assert (response.status_code, response.json()) == (
        400,
        {"error": "invalid_client_metadata", "error_description": "Client registration denied"},
    )
    assert (await env.provider.helpers.list_clients()).items == []


async def test_a_refusal_may_name_its_code_description_and_status(make_env: EnvFactory) -> None:
    env = _env(make_env, lambda options: {"code": "access_denied", "description": "invite only", "status": 403})
    response = await _register(env)
    assert (response.status_code, response.json()["error"]) == (403, "access_denied")


async def test_an_oauth_error_raised_by_the_callback_is_the_answer(make_env: EnvFactory) -> None:
    def callback(options: ClientRegistrationCallbackOptions) -> None:
        raise OAuthError("invalid_token", description="the initial access token is missing", status_code=401)

    response = await _register(_env(make_env, callback))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_token")


async def test_a_failing_callback_is_a_generic_500_without_its_message(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    def callback(options: ClientRegistrationCallbackOptions) -> None:
        raise RuntimeError("secret-detail-123")

    env = _env(make_env, callback)
    response = await _register(env)
    assert (response.status_code, response.json()) == (
        500,
        {"error": "server_error", "error_description": "Client registration callback failed"},
    )
    assert "secret-detail-123" not in caplog.text
    assert (await env.provider.helpers.list_clients()).items == []


async def test_invalid_metadata_is_refused_before_the_callback_is_asked(make_env: EnvFactory) -> None:
    seen: list[object] = []
    env = _env(make_env, seen.append)
    assert (await env.http.post(REGISTER, json={"redirect_uris": ["javascript:x"]})).status_code == 400
    assert seen == []


async def test_create_client_does_not_pass_through_the_callback(make_env: EnvFactory) -> None:
    env = _env(make_env, lambda options: ClientRegistrationCallbackResult())
    client = await env.provider.helpers.create_client(redirect_uris=[REDIRECT])
    assert client.client_id


# --- RFC 7591 section 2.2: human-readable members with a language tag -------------------------


async def test_language_tagged_members_are_kept_and_echoed(env: Env) -> None:
    response = await _register(
        env,
        client_name="Notes",
        **{"client_name#ja": "ノート", "tos_uri#fr": "https://notes.example/cgu", "client_name#en-GB": "Notes"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["client_name#ja"] == "ノート"
    assert body["tos_uri#fr"] == "https://notes.example/cgu"
    client = await env.provider.helpers.lookup_client(body["client_id"])
    assert client is not None
    assert client.i18n == {
        "client_name#ja": "ノート",
        "tos_uri#fr": "https://notes.example/cgu",
        "client_name#en-GB": "Notes",
    }


@pytest.mark.parametrize(
    "member",
    [{"logo_uri#de": "javascript:alert(1)"}, {"client_name#ja": 7}, {"policy_uri#fr": "not a url"}],
)
async def test_a_tagged_member_is_checked_like_its_untagged_one(env: Env, member: dict[str, Any]) -> None:
    response = await _register(env, **member)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


async def test_tags_on_other_members_are_unknown_members_and_ignored(env: Env) -> None:
    response = await _register(env, **{"redirect_uris#fr": ["x"], "client_name#not a tag": "x", "software_id#en": "s"})
    assert response.status_code == 201
    assert not any("#" in key for key in response.json())


async def test_too_many_tagged_members_are_refused(env: Env) -> None:
    members = {f"client_name#x-n{i}": "n" for i in range(65)}  # private-use tags, all well formed
    assert (await _register(env, **members)).status_code == 400
