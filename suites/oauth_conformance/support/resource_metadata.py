"""Finding a protected resource's metadata (RFC 9728 section 3.1), shared with the MCP suite."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from oauth_conformance.support.checks import bearer_param
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import PRM_WELL_KNOWN
from oauth_conformance.verdicts import PrerequisiteFailed


def metadata_url(resource: str) -> str:
    """Section 3.1: the well-known string goes between the host and the path (and query), a lone
    slash after the host being dropped first."""
    parts = urlsplit(resource)
    path = "" if parts.path == "/" else parts.path
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{PRM_WELL_KNOWN}{path}{query}"


def root_metadata_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{PRM_WELL_KNOWN}"


def resource_identifier(oauth: OAuth) -> str:
    """The profile's or the AS metadata's resource, else the protected resource's own URL."""
    return oauth.resource or oauth.resource_url


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    if response.status_code != 200:
        return None
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def document(http: httpx.Client, url: str, requirement: str) -> dict[str, Any]:
    """The metadata at ``url``; not_tested (pointing at ``requirement``) when there is none."""
    response = http.get(url)
    found = json_object(response)
    if found is None:
        raise PrerequisiteFailed(
            f"{url} answered HTTP {response.status_code} without a JSON object (see {requirement})"
        )
    return found


def challenged_metadata_url(oauth: OAuth, url: str | None = None) -> str | None:
    """The resource_metadata URL the challenge to an anonymous request names, if any: a request to the
    protected resource, or to ``url``.

    None switches the tests that read it off, so a server fault (a 5xx) is no answer: the request is
    sent once more, and a second fault fails the test.
    """
    response, _ = asked_twice(lambda: oauth.call_resource(None, url=url), lambda r: r.status_code >= 500)
    assert response.status_code < 500, (
        f"a request without a token to {url or oauth.resource_url} answered HTTP {response.status_code} twice"
    )
    return bearer_param(response, "resource_metadata")
