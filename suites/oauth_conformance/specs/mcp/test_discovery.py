"""MCP: discovering the authorization server the way MCP clients do."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from oauth_conformance import requirement
from oauth_conformance.target import OAUTH_WELL_KNOWN
from oauth_conformance.target import OIDC_WELL_KNOWN
from oauth_conformance.target import Target
from oauth_conformance.verdicts import not_tested


def mcp_candidates(issuer: str) -> list[str]:
    parts = urlsplit(issuer)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    urls = [f"{origin}{OAUTH_WELL_KNOWN}{path}", f"{origin}{OIDC_WELL_KNOWN}{path}"]
    if path:
        urls.append(f"{origin}{path}{OIDC_WELL_KNOWN}")
    return urls


def first_document(http: httpx.Client, issuer: str) -> tuple[str, dict[str, object]] | None:
    for url in mcp_candidates(issuer):
        response = http.get(url)
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                continue
            if isinstance(data, dict):
                return url, data
    return None


@requirement("MCP-DISC-ORDER")
def test_metadata_is_found_in_the_mcp_discovery_order(target: Target, http: httpx.Client) -> None:
    found = first_document(http, target.expected_issuer)
    assert found is not None, f"none of {mcp_candidates(target.expected_issuer)} serves a metadata document"


@requirement("MCP-DISC-PKCE-ADVERT")
def test_the_document_mcp_clients_use_advertises_s256(target: Target, http: httpx.Client) -> None:
    found = first_document(http, target.expected_issuer)
    if found is None:
        not_tested("no discovery document is found in the MCP order (see MCP-DISC-ORDER)")
    url, data = found
    methods = data.get("code_challenge_methods_supported")
    assert isinstance(methods, list) and "S256" in methods, f"{url}: code_challenge_methods_supported is {methods!r}"
