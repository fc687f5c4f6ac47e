"""``oauth-conformance fixtures``: the trust kit names the real IdP keys and settings that work."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from oauth_conformance.cli import main
from oauth_conformance.profile import FixtureHostSection
from oauth_conformance.profile import Profile
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.trust.kit import kit
from oauth_conformance.trust.kit import reference_settings
from oauth_conformance.trust.kit import render
from oauth_reference.serving.config import load_config
from oauth_reference.serving.demo import build_reference


def pinned(**fixture_host: Any) -> Profile:
    return Profile(fixture_host=FixtureHostSection(port=18480, **fixture_host))


def test_the_kit_publishes_the_keys_the_harness_signs_with() -> None:
    data = kit(pinned())
    assert data["idp"]["issuer"] == "https://127.0.0.1:18480/idp"
    published = {key["kid"] for key in data["idp"]["jwks"]["keys"]}
    assert published == {key["kid"] for key in testkeys.jwks(testkeys.IDP_RS256, testkeys.IDP_ES256)["keys"]}
    assert all("d" not in key for key in data["idp"]["jwks"]["keys"]), "private key material in the kit"
    assert data["warning"] is None


def test_a_free_port_is_flagged_as_unstable() -> None:
    assert "port" in (kit(Profile())["warning"] or "")


def test_the_reference_snippet_is_a_config_the_reference_accepts(tmp_path: Path) -> None:
    text = reference_settings(pinned())
    assert "allow_plain_pkce = false" in text  # the same options as the embedded default
    parsed = tomllib.loads(text)
    assert parsed["client_id_metadata_document_enabled"] is True
    assert parsed["enterprise_managed_authorization"]["trusted_issuers"][0]["issuer"].endswith("/idp")
    path = tmp_path / "reference.toml"
    path.write_text(text)
    provider = build_reference(load_config(path))  # what `oauth-reference serve --config` does
    assert provider.options.allow_token_exchange_grant is True
    assert provider.options.client_id_metadata_document_enabled is True
    assert provider.options.enterprise_managed_authorization is not None


def test_the_rendered_kit_says_how_tls_is_trusted() -> None:
    assert "OAUTH_REFERENCE_TEST_CA" in render(pinned())
    assert "plain http" in render(pinned(https=False))


def test_the_cli_prints_the_kit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fixtures"]) == 0
    assert "TEST ONLY" in capsys.readouterr().out
