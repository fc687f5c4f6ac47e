"""``oauth-conformance fixtures``: what a target must be configured with to trust the harness.

The ID-JAG suite signs assertions with the harness's TEST-ONLY IdP keys; a target tests them only
once it trusts that issuer. This prints the issuer, its JWK Set (inline, so the trust does not
depend on reaching the fixture host), the claims the harness sends, and ready-made settings for
the reference, for the Cloudflare test worker, and for the profile.
"""

from __future__ import annotations

import json
from typing import Any

from oauth_conformance.profile import Profile
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.trust.host import CIMD_PREFIX
from oauth_conformance.trust.host import FixtureHost


def base_url(profile: Profile) -> tuple[str, str | None]:
    """The fixture host's base URL as the target will see it, and a warning if it is not stable."""
    settings = profile.fixture_host
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/"), None
    scheme = "https" if settings.https else "http"
    if settings.port:
        return f"{scheme}://{settings.bind}:{settings.port}", None
    return f"{scheme}://{settings.bind}:<port>", (
        "the fixture host takes a free port each run: set [fixture_host] port (or public_base_url)"
        " so the issuer the target trusts stays the same"
    )


def kit(profile: Profile) -> dict[str, Any]:
    base, warning = base_url(profile)
    issuer = base + FixtureHost.IDP_PATH
    return {
        "idp": {
            "issuer": issuer,
            "jwks_uri": base + FixtureHost.IDP_JWKS_PATH,
            "jwks": testkeys.jwks(testkeys.IDP_RS256, testkeys.IDP_ES256),
            "algorithms": ["RS256", "ES256"],
            "warning": "TEST ONLY: these keys are published; never trust them in production.",
        },
        "assertion": {
            "typ": "oauth-id-jag+jwt",
            "aud": "the target's issuer (exactly)",
            "client_id": "the client the harness authenticates as: a client it registers, or the profile's"
            " confidential [[clients]] entry; the target must let it use the jwt-bearer grant",
            "sub": "alice@conformance.test (and other test users)",
            "resource": "the target's protected resource, when one is known",
            "lifetime_seconds": 120,
        },
        "documents": {
            "client_id_prefix": base + CIMD_PREFIX,
            "note": "client ID metadata documents are served under this prefix; the target must be able to fetch them",
        },
        "fixture_host": {"base_url": base, "https": profile.fixture_host.https},
        "warning": warning,
    }


def reference_settings(profile: Profile) -> str:
    """A TOML config for ``oauth-reference serve`` that trusts the harness's test IdP and fetches
    client ID metadata documents (``--test-mode`` lets it fetch from a loopback fixture host)."""
    from oauth_conformance.embedded import reference_config

    idp = kit(profile)["idp"]
    return reference_config(idp["issuer"], idp["jwks_uri"])


def _tls_note(profile: Profile) -> list[str]:
    if not profile.fixture_host.https:
        return ["[fixture_host] https = false: the target fetches documents and keys over plain http."]
    if profile.fixture_host.public_base_url:
        return ["The target reaches the host at public_base_url: serve that name with a certificate it trusts."]
    return [
        "The host serves https with a certificate from a CA made for each run (in a temporary folder,",
        "removed afterwards): a target cannot be told to trust it in advance. The reference, when the",
        "harness starts it, trusts it through OAUTH_REFERENCE_TEST_CA.",
        "For a target you start yourself, set [fixture_host] https = false (a loopback test target)",
        "or public_base_url (a name you serve with a certificate the target trusts).",
    ]


def render(profile: Profile) -> str:
    data = kit(profile)
    idp = data["idp"]
    jwks = json.dumps(idp["jwks"], indent=2)
    lines = [
        "oauth-conformance trust kit (TEST ONLY: for test and staging deployments)",
        "",
        "Test IdP (ID-JAG issuer)",
        f"  issuer      {idp['issuer']}",
        f"  jwks_uri    {idp['jwks_uri']}",
        f"  algorithms  {', '.join(idp['algorithms'])}",
        "  JWK Set (trust these keys inline to avoid depending on the fixture host's URL):",
        *("    " + line for line in jwks.splitlines()),
        "",
        "Assertions the harness presents",
        *(f"  {name:<11} {value}" for name, value in data["assertion"].items()),
        "",
        "Client ID metadata documents",
        f"  served under {data['documents']['client_id_prefix']}",
        "",
        "The bundled reference (oauth-reference serve --config FILE.toml --test-mode):",
        *("  " + line for line in reference_settings(profile).splitlines()),
        "",
        "TLS to the fixture host",
        *("  " + line for line in _tls_note(profile)),
        "",
        "The Cloudflare test worker (fixtures/targets/cloudflare):",
        f"  IDJAG_ISSUER={idp['issuer']} IDJAG_JWKS_URI={idp['jwks_uri']} FIXTURE_HOST_URL=<the host's loopback URL>",
        "",
        "Then tell the harness, in the target's profile:",
        "  [idjag]",
        "  trusted = true",
        "  [fixture_host]",
        "  # public_base_url = ...   # if the target reaches the fixture host by another name",
    ]
    if data["warning"]:
        lines += ["", f"note: {data['warning']}"]
    return "\n".join(lines) + "\n"
