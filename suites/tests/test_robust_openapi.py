"""The OpenAPI description derived from RFC 8414 metadata (oauth_conformance.robust.openapi)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis.core.result import Err
from schemathesis.core.result import Ok

from oauth_conformance.robust import openapi
from oauth_conformance.robust.openapi import Seeds

ISSUER = "https://as.example"
META_URL = f"{ISSUER}/.well-known/oauth-authorization-server"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def metadata(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/oauth/token",
        "registration_endpoint": f"{ISSUER}/oauth/register",
        "revocation_endpoint": f"{ISSUER}/oauth/token",
        "grant_types_supported": ["authorization_code", "refresh_token", TOKEN_EXCHANGE, "implicit", "x-custom"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["profile", "email"],
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def token_branches(doc: dict[str, Any], path: str = "/oauth/token") -> list[dict[str, Any]]:
    schema = doc["paths"][path]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    return list(schema.get("oneOf", [schema]))


def grant_of(branch: dict[str, Any]) -> str | None:
    grant = branch["properties"].get("grant_type")
    return grant["const"] if grant else None


def test_the_description_is_openapi_3_1_that_schemathesis_loads() -> None:
    doc = openapi.describe(metadata(), META_URL)
    assert doc["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(doc)
    results = list(schema.get_all_operations())
    assert not [result.err() for result in results if isinstance(result, Err)]
    ids = {result.ok().definition.raw.get("operationId") for result in results if isinstance(result, Ok)}
    assert ids == {"metadata", "authorization", "token", "registration"}


def test_the_token_form_has_one_branch_per_token_grant_and_the_shared_revocation_branch() -> None:
    branches = token_branches(openapi.describe(metadata(), META_URL))
    grants = [grant_of(b) for b in branches]
    assert grants == ["authorization_code", "refresh_token", TOKEN_EXCHANGE, "x-custom", None]  # no implicit
    required = {grant_of(b): b["required"] for b in branches}
    assert required["authorization_code"] == ["grant_type", "code"]
    assert required["refresh_token"] == ["grant_type", "refresh_token"]
    assert required[TOKEN_EXCHANGE] == ["grant_type", "subject_token", "subject_token_type"]
    assert required["x-custom"] == ["grant_type"]
    assert required[None] == ["token"]  # RFC 7009 section 2.1, at the shared endpoint


def test_a_separate_revocation_endpoint_is_its_own_operation() -> None:
    doc = openapi.describe(metadata(revocation_endpoint=f"{ISSUER}/revoke"), META_URL)
    assert all(grant_of(b) for b in token_branches(doc))
    (revocation,) = token_branches(doc, "/revoke")
    assert revocation["required"] == ["token"]
    kinds = {
        e.operation_id: e.kinds for e in openapi.endpoints(metadata(revocation_endpoint=f"{ISSUER}/revoke"), META_URL)
    }
    assert kinds["token"] == ("token",) and kinds["revocation"] == ("revocation",)


def test_endpoints_the_metadata_does_not_advertise_are_left_out() -> None:
    doc = openapi.describe(metadata(registration_endpoint=None, authorization_endpoint=None), META_URL)
    assert set(doc["paths"]) == {"/.well-known/oauth-authorization-server", "/oauth/token"}


def test_an_endpoint_on_another_origin_carries_its_server() -> None:
    doc = openapi.describe(metadata(token_endpoint="https://tokens.example/t"), META_URL)
    assert doc["paths"]["/t"]["servers"] == [{"url": "https://tokens.example"}]
    assert doc["servers"] == [{"url": ISSUER}]


def test_string_parameters_name_a_format_whose_strategy_draws_the_seeds_and_hostile_values() -> None:
    from hypothesis import HealthCheck
    from hypothesis import given
    from hypothesis import settings

    doc = openapi.describe(metadata(), META_URL)
    branch = token_branches(doc)[0]
    assert branch["properties"]["client_id"] == {"type": "string", "format": "oauth-conformance-client-id"}
    seeds = Seeds(client_ids=("client-123",), client_secrets=("s3cret-value-of-the-run",))
    formats = openapi.string_formats(metadata(), seeds)
    assert {p["format"] for b in token_branches(doc) for p in b["properties"].values() if "format" in p} <= set(formats)
    drawn: set[str] = set()

    @settings(max_examples=200, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(value=formats["oauth-conformance-client-id"])
    def draw(value: str) -> None:
        drawn.add(value)

    draw()
    assert "client-123" in drawn and openapi.MARKUP[0] in drawn
    assert any(v not in ("client-123", *openapi.HOSTILE_STRINGS) for v in drawn)  # and any text too


def test_the_description_never_carries_the_seeds() -> None:
    assert openapi.describe(metadata(), META_URL) == openapi.describe(metadata(), META_URL)
    assert "s3cret" not in str(openapi.describe(metadata(), META_URL))


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "state", "scope", "code_challenge", "resource"])
def test_the_authorization_endpoint_takes_each_parameter_in_the_query(name: str) -> None:
    doc = openapi.describe(metadata(), META_URL)
    parameters = {p["name"]: p for p in doc["paths"]["/authorize"]["get"]["parameters"]}
    assert parameters[name]["in"] == "query"
    assert parameters["client_id"]["required"] and parameters["response_type"]["required"]
