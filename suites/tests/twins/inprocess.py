"""In-process targets for what served twins cannot show: twins are plain http on loopback, so an
https endpoint's http counterpart is checked against the reference built in-process
(``--oauth-target asgi:suites.tests.twins.inprocess:...``), where the transport carries either scheme
to the same app and the app sees which one a request used."""

from __future__ import annotations

from typing import Any

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

AS_METADATA = "/.well-known/oauth-authorization-server"


def https_revocation(http_too: str = "yes") -> ASGIApp:
    """The reference advertising its revocation endpoint as https; over http it answers there too
    (``http_too=yes``, RFC 7009 section 2's SHOULD) or not at all (``no``: HTTP 404)."""
    from oauth_reference.serving.demo.testing import build_app

    def https(doc: dict[str, Any]) -> dict[str, Any]:
        doc["revocation_endpoint"] = "https://" + doc["revocation_endpoint"].split("://", 1)[1]
        return doc

    app = rewrite(build_app(), path_is(AS_METADATA, "GET"), edit_json(https))
    if http_too == "yes":
        return app

    async def https_only(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("scheme") == "http" and scope["method"] == "POST":
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"not found"})
            return
        await app(scope, receive, send)

    return https_only
