"""The reference as an in-process test target: ``asgi:oauth_reference.demo.testing:build_app``.

The same app ``oauth-reference serve --test-mode`` serves (every feature on, the login and
consent page, the test hooks), on an in-memory store, built inside the harness's process.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from .. import testmode
from ..asgi import ASGIApp
from ..clock import OffsetClock
from ..config import options_from_mapping
from ..fetch import TEST_CA_ENV
from .app import build_reference

ALL_FEATURES: dict[str, Any] = {"allow_plain_pkce": False, "allow_token_exchange_grant": True}
# The harness describes its fixture host here while one runs (oauth_conformance.fixture_host).
FIXTURE_HOST_ENV = "OAUTH_CONFORMANCE_FIXTURE_HOST"


def build_app(auto_approve: str = "") -> ASGIApp:
    clock = OffsetClock()
    options = dict(ALL_FEATURES)
    described = os.environ.get(FIXTURE_HOST_ENV)
    if described:
        host = orjson.loads(described)
        if host.get("ca_file"):
            os.environ[TEST_CA_ENV] = host["ca_file"]
        issuer = host["public_base_url"] + "/idp"
        options["client_id_metadata_document_enabled"] = True
        options["enterprise_managed_authorization"] = {
            "trusted_issuers": [{"issuer": issuer, "jwks_uri": issuer + "/jwks.json"}]
        }
    provider = build_reference(options_from_mapping(options), clock=clock, auto_approve=auto_approve in ("1", "true"))
    return testmode.install(provider, clock)
