"""The reference with every feature on: the one place that says what that means.

The harness's embedded default (``oauth-conformance run`` with no target), the in-process target
(``asgi:oauth_reference.serving.demo.testing:build_app``) and the trust kit's ready-made settings
all take their options from :func:`all_features`: S256 only, token exchange, token introspection,
DPoP (with nonces), pushed authorization requests (not required, so that plain authorization
requests keep working; a client can still require them for itself), and, when a test IdP is
trusted, ID-JAG assertions from it and client ID metadata documents.
"""

from __future__ import annotations

import json
from typing import Any

# A harness describes its fixture host here (JSON) while one runs, for in-process targets to trust.
FIXTURE_HOST_ENV = "OAUTH_CONFORMANCE_FIXTURE_HOST"


def all_features(idp_issuer: str | None = None, idp_jwks_uri: str | None = None) -> dict[str, Any]:
    """The provider options, as ``--config`` reads them (snake_case, plain values)."""
    options: dict[str, Any] = {
        "allow_plain_pkce": False,
        "allow_token_exchange_grant": True,
        "introspection_endpoint": "/oauth/introspect",  # RFC 7662
        "dpop_enabled": True,  # RFC 9449, with server-supplied nonces
        "dpop_nonce": True,
        "pushed_authorization_request_endpoint": "/oauth/par",  # RFC 9126
    }
    if idp_issuer is not None:
        options["client_id_metadata_document_enabled"] = True
        options["enterprise_managed_authorization"] = {
            "trusted_issuers": [{"issuer": idp_issuer, "jwks_uri": idp_jwks_uri or idp_issuer + "/jwks.json"}]
        }
    return options


def as_toml(options: dict[str, Any]) -> str:
    """The options of :func:`all_features` as a ``--config`` file."""
    lines = ["# The bundled reference with every feature on."]
    tables: list[str] = []
    for name, value in options.items():
        if isinstance(value, dict):
            tables += ["", f"[{name}]"]
            for key, inner in value.items():
                tables.append(f"{key} = {_toml_value(inner)}")
        else:
            lines.append(f"{name} = {_toml_value(value)}")
    return "\n".join(lines + tables) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return str(value)
