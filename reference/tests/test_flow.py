"""The whole flow a client walks, in-process and against the served process."""

from __future__ import annotations

import pytest

from oauth_reference.serving.process import served
from oauth_reference.serving.selfcheck import run_flow
from reference.tests.conftest import Env

pytestmark = pytest.mark.anyio


async def test_code_flow_with_pkce_reaches_the_api_with_the_grants_props(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"], scope="profile")
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "profile"
    response = await env.api(tokens["access_token"])
    assert response.status_code == 200
    assert response.json()["props"]["user_id"] == "test-user"
    assert response.json()["scope"] == ["profile"]


def test_served_reference_completes_the_flow_over_http() -> None:
    steps: list[tuple[str, bool]] = []

    def record(name: str, ok: bool, detail: str) -> bool:
        steps.append((name, ok))
        return ok

    with served(["--auto-approve", "--store", "memory"]) as server:
        assert run_flow(server.url, record)
    assert [name for name, _ in steps] == [
        "metadata",
        "registration",
        "authorize",
        "token",
        "API call",
        "refresh",
        "revoke",
    ]
    assert all(ok for _, ok in steps)
