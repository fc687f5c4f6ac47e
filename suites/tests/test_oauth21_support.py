"""The OAuth 2.1 suite's own helpers: redirect URI variants, destinations, token alteration, scopes."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from oauth_conformance.profile import Profile
from oauth_conformance.profile import RequestSection
from oauth_conformance.specs.oauth21.test_redirect_uris import HTTPS_REDIRECT
from oauth_conformance.specs.oauth21.test_redirect_uris import redirect_variants
from oauth_conformance.specs.oauth21.test_redirect_uris import representatives
from oauth_conformance.specs.oauth21.test_refresh_grant import altered
from oauth_conformance.specs.oauth21.test_token_endpoint import bits_of_capacity
from oauth_conformance.support.attempts import escaped
from oauth_conformance.support.attempts import is_loopback
from oauth_conformance.support.attempts import scope_to_narrow
from oauth_conformance.support.attempts import without_port
from oauth_conformance.target import Target

LOOPBACK = "http://127.0.0.1:8976/callback"


@pytest.mark.parametrize("registered", [HTTPS_REDIRECT, LOOPBACK, "https://app.example/cb?tenant=1"])
def test_no_generated_variant_equals_the_registered_uri(registered: str) -> None:
    @settings(max_examples=300, derandomize=True, database=None, deadline=None)
    @given(case=redirect_variants(registered))
    def check(case: tuple[str, str]) -> None:
        assert case[1] != registered

    check()
    # Every class the generator knows has plain representatives, tried in every run.
    shown = representatives(registered)
    assert all(uri != registered for _, uri in shown)
    assert {kind for kind, _ in shown} >= {"path-suffix", "empty-query", "userinfo", "case-changed", "fragment"}


def test_loopback_variants_never_differ_only_by_port() -> None:
    @settings(max_examples=300, derandomize=True, database=None, deadline=None)
    @given(case=redirect_variants(LOOPBACK))
    def check(case: tuple[str, str]) -> None:
        variant = case[1]
        if is_loopback(variant) and without_port(variant) == without_port(LOOPBACK):
            assert urlsplit(variant).netloc == "127.0.0.1:8976", f"{variant} differs from {LOOPBACK} only by port"

    check()
    for kind, variant in representatives(LOOPBACK):
        check_one = is_loopback(variant) and without_port(variant) == without_port(LOOPBACK)
        assert not check_one or urlsplit(variant).netloc == "127.0.0.1:8976", f"{kind}: {variant} differs by port only"


@pytest.mark.parametrize(
    ("destination", "why"),
    [
        (f"{HTTPS_REDIRECT}?error=invalid_request&state=s", None),
        (f"{HTTPS_REDIRECT}?code=abc&state=s", "issued a code"),
        (f"{HTTPS_REDIRECT}/x?error=invalid_request", "redirected"),
        (f"{HTTPS_REDIRECT}?next=https://evil.example&error=invalid_request", "redirected"),
        (f"{HTTPS_REDIRECT}?error=invalid_request#frag", "redirected"),
        ("https://evil.example/cb?error=invalid_request", "redirected"),
    ],
)
def test_escaped_tells_a_registered_error_redirect_from_an_escape(destination: str, why: str | None) -> None:
    reason = escaped(destination, [HTTPS_REDIRECT])
    assert (reason is None) if why is None else (reason is not None and why in reason)


def test_a_loopback_error_redirect_on_another_port_is_registered() -> None:
    assert escaped("http://127.0.0.1:50000/callback?error=access_denied", [LOOPBACK]) is None


@given(st.text(alphabet="ABCDEFabcdef0123456789-_:.", min_size=8, max_size=80))
def test_altered_changes_exactly_one_character_and_never_the_last(token: str) -> None:
    changed = altered(token)
    differing = [i for i, (a, b) in enumerate(zip(token, changed, strict=True)) if a != b]
    if any(ch.isalnum() for ch in token[: len(token) - len(token) // 4]):
        assert len(differing) == 1
        assert differing[0] != len(token) - 1


def test_capacity_flags_short_tokens_and_passes_random_ones() -> None:
    assert bits_of_capacity("alice:abcd:efgh") < 128
    assert bits_of_capacity(secrets.token_urlsafe(32)) >= 128
    assert bits_of_capacity(secrets.token_hex(16)) >= 128


def _target(scope: str | None, supported: list[str] | None) -> Target:
    metadata = {"issuer": "https://as.example"} | ({"scopes_supported": supported} if supported else {})
    return Target(
        "https://as.example", "https://as.example/.well-known/x", metadata, Profile(request=RequestSection(scope=scope))
    )


@pytest.mark.parametrize(
    ("scope", "supported", "expected"),
    [
        (None, ["openid", "profile", "email"], ("profile email", "profile")),
        ("offline_access", ["profile", "email"], ("offline_access profile", "offline_access")),
        ("openid offline_access", None, None),
        ("read write", None, ("read write", "read")),
        (None, ["profile"], None),
    ],
)
def test_scope_to_narrow_keeps_the_profile_scope_whole(
    scope: str | None, supported: list[str] | None, expected: tuple[str, str] | None
) -> None:
    assert scope_to_narrow(_target(scope, supported)) == expected
