"""Twins that break the iss authorization response parameter (RFC 9207), one behaviour each.

The demo app sends the user agent back with a 302 (or 303 after the consent form); these twins
rewrite the iss in that Location header.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Scope
from suites.tests.twins import twin
from suites.tests.twins import wire
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import Clients
from suites.tests.twins.wire import first
from suites.tests.twins.wire import query_of

SPECS = ("rfc9207",)


def redirects(app: ASGIApp, edit: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]) -> ASGIApp:
    """Rewrite the query of every redirect the authorization endpoint sends."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        out: Headers = []
        for name, value in headers:
            if name.lower() == b"location":
                parts = urlsplit(value.decode("latin-1"))
                query = urlencode(edit(parse_qsl(parts.query, keep_blank_values=True)))
                value = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment)).encode("latin-1")
            out.append((name, value))
        return status, out, body

    return rewrite(app, path_is("/authorize"), change)


def is_error(pairs: list[tuple[str, str]]) -> bool:
    return any(k == "error" for k, _ in pairs)


@twin("issuer-missing-on-success", SPECS, {"RFC9207-2-SUCCESS"})
def missing_on_success(app: ASGIApp) -> ASGIApp:
    return redirects(app, lambda pairs: pairs if is_error(pairs) else [(k, v) for k, v in pairs if k != "iss"])


@twin("issuer-missing-on-errors", SPECS, {"RFC9207-2-ERROR"})
def missing_on_errors(app: ASGIApp) -> ASGIApp:
    return redirects(app, lambda pairs: [(k, v) for k, v in pairs if k != "iss"] if is_error(pairs) else pairs)


@twin("issuer-trailing-slash", SPECS, {"RFC9207-2.3-IDENTICAL"})
def trailing_slash(app: ASGIApp) -> ASGIApp:
    return redirects(app, lambda pairs: [(k, v + "/" if k == "iss" else v) for k, v in pairs])


@twin(
    "issuer-with-query",
    SPECS,
    {"RFC9207-2-FORM", "RFC9207-2.3-IDENTICAL"},
    note="an iss with a query cannot be identical to an issuer, which never has one",
)
def with_query(app: ASGIApp) -> ASGIApp:
    return redirects(app, lambda pairs: [(k, v + "?tenant=1" if k == "iss" else v) for k, v in pairs])


@twin("issuer-sent-but-not-advertised", SPECS, {"RFC9207-2.3-ADVERTISED"})
def sent_but_not_advertised(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, object]) -> dict[str, object]:
        doc.pop("authorization_response_iss_parameter_supported", None)
        return doc

    return rewrite(app, path_is("/.well-known/oauth-authorization-server"), edit_json(edit))


@twin(
    "issuer-sent-but-not-advertised-once-without-it",
    SPECS,
    {"RFC9207-2.3-ADVERTISED"},
    note="the test concluded from one response without iss that the server does not send it",
)
def sent_but_not_advertised_once_without(app: ASGIApp) -> ASGIApp:
    """The twin above, leaving iss out of the first code response to the ADVERTISED test's client."""
    clients = Clients()
    dropped: list[str] = []

    def edit(scope: Scope, location: str) -> str:
        client_id = first(query_of(scope), "client_id") or ""
        known = clients.known.get(client_id)
        name = str(known.information.get("client_name", "")) if known is not None else ""
        if "advertises_it" in name and "code=" in location and not dropped:
            dropped.append(client_id)
            parts = urlsplit(location)
            kept = [(k, v) for k, v in parse_qsl(parts.query) if k != "iss"]
            return urlunsplit(parts._replace(query=urlencode(kept)))
        return location

    return clients.observe(wire.redirects(sent_but_not_advertised(app), edit))
