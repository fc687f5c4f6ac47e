"""Twins without TLS: the reference served over plain http on an address the profile's loopback
allowance does not cover, so the TLS requirements apply and must fail.

The harness exempts only ``http://127.0.0.1``, ``localhost`` and ``[::1]`` targets (with
``allow_http_loopback``) from the TLS rules; these twins listen on 127.0.0.2, which is just as
reachable from the test but is, to the harness, a plain-http target like any remote one. The
issuer follows the Host header, so every advertised URL is ``http://127.0.0.2:PORT/...``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from oauth_reference.machinery.asgi import ASGIApp
from suites.tests.twins import twin
from suites.tests.twins.resource import prm

PLAIN = "127.0.0.2"
TLS_MUSTS = {
    "RFC8414-2-ISSUER-HTTPS",
    "RFC8414-2-URLS-HTTPS",
    "RFC8414-6.1-TLS",
    "OAUTH21-1.5-HTTPS",
    "RFC6750-5.2-TLS",
    "RFC7009-2-HTTPS",
    "RFC7591-3-TLS",
}


@twin(
    "plain-http",
    ("rfc8414", "oauth21", "rfc6750", "rfc7009", "rfc7591", "rfc9207", "rfc9728"),
    TLS_MUSTS | {"RFC9207-2-FORM", "RFC9728-2-RESOURCE"},
    host=PLAIN,
    note="no TLS anywhere: the issuer, every endpoint and the protected resource are plain http",
)
def plain_http(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "plain-http-resource-jwks-uri",
    ("rfc9728",),
    {"RFC9728-2-JWKS-URI", "RFC9728-2-RESOURCE"},
    host=PLAIN,
    note="plain-http's resource metadata plus an http jwks_uri (RFC9728-2-RESOURCE fails as in plain-http)",
)
def resource_jwks_uri_http(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        parts = urlsplit(str(doc["resource"]))
        doc["jwks_uri"] = f"http://{parts.netloc}/.well-known/jwks.json"
        return doc

    return prm(app, edit)
