"""RFC9728-3.3-CHALLENGE-MATCH: every URL under the configured resource is a resource of its own.

A 401 names the metadata of the URL that was requested, that metadata names the URL as its
resource, and the authorization server accepts it (or the configured resource) in resource=.
"""

from __future__ import annotations

import pytest

from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env

pytestmark = pytest.mark.anyio

WELL_KNOWN = "/.well-known/oauth-protected-resource"


async def test_the_challenge_names_the_metadata_of_the_requested_url(env: Env) -> None:
    response = await env.http.get("/api/whoami")
    assert f'resource_metadata="{ORIGIN}{WELL_KNOWN}/api/whoami"' in response.headers["www-authenticate"]


async def test_metadata_below_the_resource_names_the_url_as_its_resource(env: Env) -> None:
    response = await env.http.get(f"{WELL_KNOWN}/api/whoami")
    assert response.status_code == 200
    assert response.json()["resource"] == f"{ORIGIN}/api/whoami"


@pytest.mark.parametrize("path", ["/apix", "/api/../admin", "/other", ""])
async def test_metadata_is_not_served_outside_the_resource(env: Env, path: str) -> None:
    assert (await env.http.get(f"{WELL_KNOWN}{path}")).status_code == 404


async def test_a_token_for_a_url_below_the_resource_is_issued_and_works_there(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"], resource=f"{ORIGIN}/api/whoami")
    assert tokens["resource"] == f"{ORIGIN}/api/whoami"
    assert (await env.api(tokens["access_token"])).status_code == 200
    assert (await env.api(tokens["access_token"], "/api/other")).status_code == 401


async def test_a_refresh_may_narrow_the_resource_but_never_widen_it(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"], resource=f"{ORIGIN}/api/whoami")
    wider = await env.refresh(client["client_id"], tokens["refresh_token"], resource=f"{ORIGIN}/api")
    assert wider.json()["error"] == "invalid_target"
    narrow = await env.tokens(client["client_id"])
    ok = await env.refresh(client["client_id"], narrow["refresh_token"], resource=f"{ORIGIN}/api/whoami")
    assert ok.status_code == 200
    assert ok.json()["resource"] == f"{ORIGIN}/api/whoami"
