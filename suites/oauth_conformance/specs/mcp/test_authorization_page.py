"""MCP authorization, localhost redirect URI risks: a client whose redirect URIs are all localhost
gets an additional warning on the authorization page.

Whether a sentence warns is a matter of wording, which a harness cannot judge; what it can see is
whether the page says more. Two metadata document clients identical but for their redirect URIs
(the profile's loopback one, and an https one) open the authorization page; the page for the
localhost-only client must hold text the other does not, once each page's own client id and
redirect URI are set aside. A target that shows no page (it approves at once) is not_tested.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest

from oauth_conformance import requirement
from oauth_conformance.drivers import Callback
from oauth_conformance.drivers import ConsentDriver
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.drivers import Walker
from oauth_conformance.support.attempts import is_loopback
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.target import Target
from oauth_conformance.verdicts import not_tested

HTTPS_REDIRECT = "https://callback.oauth-conformance.test/mcp/callback"
CLIENT_NAME = "oauth-conformance MCP client"
_TOKEN = re.compile(r"\b(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{12,}\b")


class _Text(HTMLParser):
    """The visible text of a page, one chunk per run of text between tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._hidden:
            self.chunks.append(text)


def page_text(html: str, client_id: str, redirect_uri: str) -> set[str]:
    """The page's text chunks, with this client's own id and redirect URI (and random tokens) set aside."""
    parser = _Text()
    parser.feed(html)
    host = urlsplit(redirect_uri).netloc
    out = set()
    for chunk in parser.chunks:
        for own in sorted({client_id, redirect_uri, host, host.split(":")[0]}, key=len, reverse=True):
            chunk = chunk.replace(own, "<own>")
        out.add(_TOKEN.sub("<token>", chunk))
    return out


def first_page(documents: Documents, target: Target, redirect_uri: str) -> tuple[str, str]:
    """(client id, HTML) of the first page an authorization request for a new document client shows."""
    url = documents.url(doc={"redirect_uris": [redirect_uri], "client_name": CLIENT_NAME})
    client = documents.client(url, redirect_uri=redirect_uri)
    _, challenge = pkce_pair()
    request, _ = documents.oauth.authorization_url(client, code_challenge=challenge, code_challenge_method="S256")
    origins = {_origin(target.url), _origin(target.endpoint("authorization_endpoint") or target.url)}
    walker = Walker(target.profile, origins, {}, target.transport())
    try:
        ended = walker.follow(walker.http.get(request), redirect_uri, [])
    except DriverStopped as exc:
        not_tested(f"the authorization request did not reach a page: {exc.reason}")
    finally:
        walker.close()
    if isinstance(ended, Callback):
        not_tested("the target shows no authorization page (it approves at once): no page to compare")
    if ended.status_code != 200 or "html" not in ended.headers.get("content-type", ""):
        not_tested(f"the authorization request ended with HTTP {ended.status_code}, not a page")
    return url, ended.text


@pytest.fixture
def page_documents(fixture_host: Any, oauth: OAuth, driver: ConsentDriver, target: Target) -> Documents:
    documents = Documents(fixture_host, oauth, driver, target, target.profile.request.redirect_uri)
    documents.prove("MCP-CIMD-SUPPORT")
    return documents


@requirement("MCP-CIMD-LOCALHOST-WARNING")
def test_a_localhost_only_client_gets_an_additional_warning(page_documents: Documents, target: Target) -> None:
    local = page_documents.redirect_uri
    if not is_loopback(local):
        not_tested("the profile's redirect URI is not a localhost one", unlock="[request] redirect_uri")
    local_id, local_page = first_page(page_documents, target, local)
    remote_id, remote_page = first_page(page_documents, target, HTTPS_REDIRECT)
    more = page_text(local_page, local_id, local) - page_text(remote_page, remote_id, HTTPS_REDIRECT)
    assert more, (
        "the authorization page for a client whose redirect URIs are all localhost says nothing the page for"
        " an https client does not: no additional warning"
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
