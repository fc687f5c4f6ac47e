"""The reference as an in-process test target: ``asgi:oauth_reference.serving.demo.testing:build_app``.

The same app ``oauth-reference serve --test-mode`` serves (every feature on, the login and
consent page, the test hooks), on an in-memory store, built inside the harness's process.
"""

from __future__ import annotations

import os

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.machinery.fetch import TEST_CA_ENV
from oauth_reference.serving import testmode
from oauth_reference.serving.all_features import FIXTURE_HOST_ENV
from oauth_reference.serving.all_features import all_features
from oauth_reference.serving.config import options_from_mapping
from oauth_reference.serving.demo.app import build_reference


def build_app(auto_approve: str = "") -> ASGIApp:
    clock = OffsetClock()
    options = all_features()
    described = os.environ.get(FIXTURE_HOST_ENV)
    if described:
        host = orjson.loads(described)
        if host.get("ca_file"):
            os.environ[TEST_CA_ENV] = host["ca_file"]
        options = all_features(host["idp_issuer"], host["idp_jwks_uri"])
    provider = build_reference(options_from_mapping(options), clock=clock, auto_approve=auto_approve in ("1", "true"))
    return testmode.install(provider, clock)
