"""The README's "Protect your FastAPI app" recipes run as written, under uvicorn (issue 15).

Each recipe is the Python block that follows its ``<!-- recipe: NAME -->`` marker in
``reference/README.md``; it is executed as is and its ``app`` served.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import connect

from reference.tests.conftest import REDIRECT
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of
from reference.tests.conftest import served_by_uvicorn

README = Path(__file__).resolve().parents[1] / "README.md"


def recipe(name: str) -> dict[str, Any]:
    """The namespace the recipe's code leaves behind."""
    found = re.search(rf"<!-- recipe: {name} -->\n```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert found, f"no recipe {name} in the README"
    namespace: dict[str, Any] = {"__name__": f"recipe_{name}"}
    exec(compile(found.group(1), f"{README}#recipe-{name}", "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace


@contextmanager
def served(name: str) -> Iterator[httpx.Client]:
    with served_by_uvicorn(recipe(name)["app"]) as url, httpx.Client(base_url=url) as http:
        yield http


def token(http: httpx.Client, scope: str) -> str:
    client = http.post("/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
    client_id = client.json()["client_id"]
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": scope,
    }
    location = http.get("/authorize", params=query).headers["location"]
    form = {
        "grant_type": "authorization_code",
        "code": query_of(location)["code"][0],
        "code_verifier": verifier,
        "client_id": client_id,
    }
    return str(http.post("/oauth/token", data=form).json()["access_token"])


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_the_fastapi_recipe_guards_its_api_with_scopes_per_route() -> None:
    with served("fastapi") as http:
        assert http.get("/api/documents").status_code == 401  # the provider's answer: no token
        reader = token(http, "documents.read")
        assert http.get("/api/documents", headers=bearer(reader)).json() == []
        refused = http.post("/api/documents", params={"title": "notes"}, headers=bearer(reader))
        assert refused.status_code == 403
        assert refused.json()["error"] == "insufficient_scope"
        assert 'scope="documents.write", error="insufficient_scope"' in refused.headers["www-authenticate"]
        writer = token(http, "documents.read documents.write")
        assert http.post("/api/documents", params={"title": "notes"}, headers=bearer(writer)).json() == ["notes"]
        # The lifespan's state lives across requests (the provider ran the lifespan).
        assert http.get("/api/documents", headers=bearer(writer)).json() == ["notes"]
        assert http.get("/authorize", params={"client_id": "nobody"}).status_code == 400


def test_the_fastapi_recipe_still_serves_docs_which_show_the_oauth_flow() -> None:
    with served("fastapi") as http:
        docs = http.get("/docs")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        openapi = http.get("/openapi.json").json()
    [scheme] = openapi["components"]["securitySchemes"].values()
    flow = scheme["flows"]["authorizationCode"]
    assert (flow["authorizationUrl"], flow["tokenUrl"]) == ("/authorize", "/oauth/token")
    assert set(flow["scopes"]) == {"documents.read", "documents.write"}
    [(scheme_name, scopes)] = openapi["paths"]["/api/documents"]["post"]["security"][0].items()
    assert scheme_name in openapi["components"]["securitySchemes"]
    assert scopes == ["documents.write"]
    assert "/authorize" not in openapi["paths"]


def test_the_fastapi_recipes_lifespan_runs_with_the_server() -> None:
    namespace = recipe("fastapi")
    opened: list[dict[str, Any]] = []
    original = namespace["lifespan"]

    def watched(api: Any) -> Any:
        context = original(api)

        class Watch:
            async def __aenter__(self) -> Any:
                state = await context.__aenter__()
                opened.append(state)
                return state

            async def __aexit__(self, *exc: Any) -> Any:
                opened.append({"closed": True})
                return await context.__aexit__(*exc)

        return Watch()

    namespace["api"].router.lifespan_context = watched
    with served_by_uvicorn(namespace["app"]):
        assert opened == [{"documents": {}}]
    assert opened[-1] == {"closed": True}


def test_the_starlette_recipe_hands_the_grant_to_http_and_websocket_routes() -> None:
    with served("starlette") as http:
        reader = token(http, "documents.read")
        assert http.get("/api/whoami", headers=bearer(reader)).json() == {"name": "Bob", "scope": ["documents.read"]}
        refused = http.post("/api/upload", content=b"data", headers=bearer(reader))
        assert (refused.status_code, refused.json()["error"]) == (403, "insufficient_scope")
        writer = token(http, "documents.write")
        assert http.post("/api/upload", content=b"data", headers=bearer(writer)).json() == {"stored": 4}
        ws_url = str(http.base_url).replace("http", "ws").rstrip("/") + "/api/events"
        with connect(ws_url, additional_headers=bearer(reader)) as ws:
            assert orjson.loads(ws.recv(timeout=10)) == {"hello": "Bob"}
        with pytest.raises(Exception, match="401"), connect(ws_url):
            pass
