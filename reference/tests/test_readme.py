"""The quick-usage example in ``reference/README.md`` works as written, through a client's whole flow."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference.tests.conftest import REDIRECT
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of

pytestmark = pytest.mark.anyio

README = Path(__file__).resolve().parents[1] / "README.md"


def _example_app() -> Any:
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)[:1]
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace["app"]


async def test_the_readme_example_serves_the_whole_flow(capsys: pytest.CaptureFixture[str]) -> None:
    app = _example_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
        meta = (await http.get("/.well-known/oauth-authorization-server")).json()
        assert meta["scopes_supported"] == ["documents.read", "documents.write", "profile"]
        client = (
            await http.post(
                meta["registration_endpoint"],
                json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "Docs"},
            )
        ).json()
        verifier, challenge = pkce_pair()
        authorized = await http.get(
            meta["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": REDIRECT,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "scope": "profile",
                "state": "s",
            },
        )
        assert authorized.status_code == 302
        code = query_of(authorized.headers["location"])["code"][0]
        tokens = (
            await http.post(
                meta["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "code_verifier": verifier,
                    "client_id": client["client_id"],
                },
            )
        ).json()
        whoami = await http.get("/api/whoami", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert whoami.json() == {"user": "Bob", "scope": ["profile"]}
        refused = await http.get(meta["authorization_endpoint"], params={"client_id": "nobody"})
        assert refused.status_code == 400
        assert "location" not in refused.headers
        bad_scope = await http.get(
            meta["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": client["client_id"],
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "scope": "admin",
            },
        )
        assert query_of(bad_scope.headers["location"])["error"] == ["invalid_scope"]
    assert "Docs asks for ['profile']" in capsys.readouterr().out
