"""Twins that break token revocation (RFC 7009), one behaviour each.

The reference revokes at its token endpoint (a POST with ``token`` and no ``grant_type``), so
most twins replace a piece of ``oauth_reference.specs.rfc7009`` in the twin's process.
"""

from __future__ import annotations

from typing import Any

from oauth_reference.machinery.asgi import ASGIApp
from suites.tests.twins import twin

SPECS = ("rfc7009",)


def unsupported_token_type() -> Any:
    from oauth_reference.machinery.asgi import json_response

    body = {"error": "unsupported_token_type", "error_description": "not revocable here"}
    return json_response(body, 400, no_store=True)


@twin(
    "revocation-refresh-tokens-unsupported",
    SPECS,
    {"RFC7009-2-REFRESH"},
    note="every test that needs a working refresh-token revocation is not_tested instead",
)
def refresh_tokens_unsupported(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import crypto
    from oauth_reference.machinery import grants
    from oauth_reference.specs import rfc7009

    revoke = rfc7009.revoke

    async def no_refresh(core: Any, client: Any, form: Any) -> Any:
        token = form.get("token") or ""
        ids = grants.split_token(token)
        found = await grants.load(core.storage, *ids) if ids else None
        if found is not None and found[0].refresh_token_id == crypto.sha256_hex(token):
            return unsupported_token_type()
        return await revoke(core, client, form)

    rfc7009.revoke = no_refresh
    return app


@twin("revocation-revokes-nothing", SPECS, {"RFC7009-2.1-IMMEDIATE"}, warns={"RFC7009-2-ACCESS", "RFC7009-2.1-CASCADE"})
def revokes_nothing(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery.asgi import Response
    from oauth_reference.specs import rfc7009

    async def accept(core: Any, client: Any, form: Any) -> Any:
        return Response(200, b"", [(b"cache-control", b"no-store")])

    rfc7009.revoke = accept
    return app


@twin("revocation-hint-is-authoritative", SPECS, {"RFC7009-2.1-HINT-FALLBACK"})
def hint_is_authoritative(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc7009

    revoke = rfc7009.revoke
    refresh = rfc7009._revoke_refresh

    async def only_hinted(core: Any, client: Any, form: Any) -> Any:
        if form.get("token_type_hint") == "access_token":
            rfc7009._revoke_refresh = nothing  # the access-token search only
            try:
                return await revoke(core, client, form)
            finally:
                rfc7009._revoke_refresh = refresh
        return await revoke(core, client, form)

    async def nothing(*args: Any) -> bool:
        return False

    rfc7009.revoke = only_hinted
    return app


@twin("revocation-unknown-hint-refused", SPECS, set(), warns={"RFC7009-2.2-BAD-HINT"})
def unknown_hint_refused(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc7009

    revoke = rfc7009.revoke

    async def strict(core: Any, client: Any, form: Any) -> Any:
        if form.get("token_type_hint") not in (None, "access_token", "refresh_token"):
            return unsupported_token_type()
        return await revoke(core, client, form)

    rfc7009.revoke = strict
    return app


@twin("revocation-unknown-token-refused", SPECS, set(), warns={"RFC7009-2.2-INVALID-200"})
def unknown_token_refused(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import grants
    from oauth_reference.machinery.asgi import json_response
    from oauth_reference.specs import rfc7009

    revoke = rfc7009.revoke

    async def oracle(core: Any, client: Any, form: Any) -> Any:
        if grants.split_token(form.get("token") or "") is None:
            return json_response({"error": "invalid_request", "error_description": "no such token"}, 400)
        return await revoke(core, client, form)

    rfc7009.revoke = oracle
    return app


@twin("revocation-skips-client-authentication", SPECS, {"RFC7009-2.1-CLIENT-AUTH"})
def skips_client_authentication(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store as clients
    from oauth_reference.errors import InvalidClientError
    from oauth_reference.specs.oauth21 import client_auth

    authenticate = client_auth.authenticate

    async def lenient(core: Any, request: Any, form: Any) -> Any:
        try:
            return await authenticate(core, request, form)
        except InvalidClientError:
            if form.get("grant_type") is not None or form.get("token") is None:
                raise
            credentials = client_auth.read_credentials(request, form)
            client = await clients.lookup(core, credentials.client_id or "")
            if client is None:
                raise
            return client  # a revocation request: the secret is not checked

    client_auth.authenticate = lenient
    return app


@twin("revocation-ignores-ownership", SPECS, {"RFC7009-2.1-OWNERSHIP"})
def ignores_ownership(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import grants
    from oauth_reference.specs import rfc7009

    revoke = rfc7009.revoke

    async def anyones(core: Any, client: Any, form: Any) -> Any:
        ids = grants.split_token(form.get("token") or "")
        found = await grants.load(core.storage, *ids) if ids else None
        if found is not None and found[0].client_id != client.client_id:
            await grants.revoke(core.storage, *ids)
        return await revoke(core, client, form)

    rfc7009.revoke = anyones
    return app


@twin("revocation-errors-not-json", SPECS, {"RFC7009-2.2.1-ERROR-FORMAT"})
def errors_not_json(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery.asgi import Response
    from oauth_reference.options import TOKEN_BODY_LIMIT
    from oauth_reference.specs.oauth21 import token_endpoint as token
    from oauth_reference.specs.oauth21.forms import parse_form

    handle = token.handle

    async def plain(core: Any, request: Any, table: Any, issuer: Any) -> Any:
        body = await request.body(TOKEN_BODY_LIMIT)
        form = parse_form(body)
        if form.get("grant_type") is None and form.get("token") is None:
            return Response(400, b"bad revocation request", [(b"content-type", b"text/plain")])
        cached = body

        async def receive() -> Any:
            return {"type": "http.request", "body": cached, "more_body": False}

        request.receive = receive
        return await handle(core, request, table, issuer)

    token.handle = plain
    return app


@twin("revocation-refresh-keeps-access-tokens", SPECS, set(), warns={"RFC7009-2.1-CASCADE"})
def refresh_keeps_access_tokens(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import grants
    from oauth_reference.machinery import records
    from oauth_reference.machinery.storage import Delete
    from oauth_reference.specs import rfc7009

    async def grant_only(core: Any, client: Any, user_id: str, grant_id: str, token_id: str) -> bool:
        found = await grants.load(core.storage, user_id, grant_id)
        if found is None or found[0].refresh_token_id != token_id:
            return False
        if found[0].client_id == client.client_id:
            await core.storage.commit([Delete(records.grant_key(user_id, grant_id))])  # the tokens stay
        return True

    rfc7009._revoke_refresh = grant_only
    return app


@twin("revocation-access-tokens-unsupported", SPECS, set(), warns={"RFC7009-2-ACCESS"})
def access_tokens_unsupported(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc7009

    async def never(*args: Any) -> bool:
        return False

    rfc7009._revoke_access = never
    return app
