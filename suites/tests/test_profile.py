"""Profiles: every field checked when loading, errors naming the field, secrets only by reference."""

from __future__ import annotations

import pytest

from oauth_conformance.profile import STARTER
from oauth_conformance.profile import ProfileError
from oauth_conformance.profile import Secret
from oauth_conformance.profile import parse_profile


def test_empty_profile_has_working_defaults() -> None:
    profile = parse_profile({})
    assert profile.consent.driver == "redirect"
    assert profile.request.redirect_uri.startswith("http://127.0.0.1:")
    assert profile.clock.mode == "none"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"target": {"url": "ftp://x"}}, "target.url: must be an absolute http(s) URL"),
        ({"target": {"colour": "red"}}, "target.colour: unknown field"),
        ({"surprise": {}}, "surprise: unknown field"),
        ({"consent": {"driver": "python"}}, "consent.callable: required by the python driver"),
        ({"consent": {"driver": "browser"}}, "consent.browser.steps: required by the browser driver"),
        ({"consent": {"form": {"approve": {"value": "x"}}}}, "consent.form.approve.name: required"),
        ({"clock": {"mode": "hook"}}, "clock.hook: required when clock.mode is hook"),
        ({"clock": {"wait_budget": "long"}}, "clock.wait_budget: must be int or float"),
        ({"policy": {"concurrency": -1}}, "policy.concurrency: must not be negative"),
        (
            {"clients": [{"kind": "confidential", "client_id": "c"}]},
            "clients[0]: a confidential client needs client_secret",
        ),
        (
            {"clients": [{"kind": "public", "client_id": "c", "client_secret": "s"}]},
            "clients[0].client_secret: secrets are not written",
        ),
        (
            {"consent": {"form": {"fields": {"password": 3}}}},
            "consent.form.fields.password: must be a string or { env = ... }",
        ),
    ],
)
def test_mistakes_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(
        ProfileError,
        match=field.replace("{", r"\{")
        .replace("[", r"\[")
        .replace("]", r"\]")
        .replace("(", r"\(")
        .replace(")", r"\)")
        .replace("+", r"\+")
        .replace(".", r"\."),
    ):
        parse_profile(data)


def test_secrets_are_read_from_the_environment_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = parse_profile(
        {
            "clients": [
                {
                    "kind": "confidential",
                    "client_id": "c",
                    "client_secret": {"env": "AS_SECRET"},
                    "auth_method": "client_secret_basic",
                }
            ]
        }
    )
    secret = profile.clients[0].client_secret
    assert isinstance(secret, Secret) and "AS_SECRET" in repr(secret)
    with pytest.raises(ProfileError, match="AS_SECRET"):
        secret.value()
    monkeypatch.setenv("AS_SECRET", "s3cret")
    assert secret.value() == "s3cret"


def test_starter_profile_parses() -> None:
    import tomllib

    assert parse_profile(tomllib.loads(STARTER)).target.allow_http_loopback is True
