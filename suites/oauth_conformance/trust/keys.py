"""The harness's TEST-ONLY signing keys (``fixtures/keys``): published, never to be trusted in
production. Found in the installed package (``_test_keys``) or, in a source checkout, in the
repository's ``fixtures/keys``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson
from joserfc.jwk import ECKey
from joserfc.jwk import RSAKey

from oauth_conformance.redaction import KNOWN

IDP_RS256 = "idjag-issuer-rs256.TEST-ONLY.jwk.json"
IDP_ES256 = "idjag-issuer-es256.TEST-ONLY.jwk.json"
UNTRUSTED_RS256 = "idjag-untrusted-rs256.TEST-ONLY.jwk.json"
CLIENT_RS256 = "client-rs256.TEST-ONLY.jwk.json"
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")  # RFC 7518 section 6: a JWK's private parts


def key_dir() -> Path:
    package = Path(__file__).resolve().parents[1]  # oauth_conformance
    for candidate in (package / "_test_keys", package.parents[1] / "fixtures" / "keys"):
        if (candidate / IDP_RS256).exists():
            return candidate
    raise FileNotFoundError("the harness's test keys are missing (fixtures/keys)")


@cache
def private_key(name: str) -> RSAKey | ECKey:
    data = orjson.loads((key_dir() / name).read_bytes())
    data.pop("WARNING", None)
    # Published TEST-ONLY keys, but private key material all the same: no report shows it.
    KNOWN.update(data.get(member) for member in PRIVATE_MEMBERS)
    return RSAKey.import_key(data) if data["kty"] == "RSA" else ECKey.import_key(data)


def public_jwk(name: str) -> dict[str, Any]:
    return dict(private_key(name).as_dict(private=False))


def jwks(*names: str) -> dict[str, Any]:
    return {"keys": [public_jwk(n) for n in names]}
