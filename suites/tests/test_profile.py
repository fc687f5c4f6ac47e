"""Profiles: every field checked when loading, errors naming the field, secrets only by reference."""

from __future__ import annotations

import pytest

from oauth_conformance.profile import STARTER
from oauth_conformance.profile import ButtonSpec
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
        ({"consent": {"form": {"deny": {}}}}, "consent.form.deny: give name (and value), text or selector"),
        ({"consent": {"form": {"login": {"text": " "}}}}, "consent.form.login.text: must not be empty"),
        ({"consent": {"form": {"approve": {"label": "OK"}}}}, "consent.form.approve.label: unknown field"),
        (
            {"consent": {"browser": {"steps": [{"action": "click", "selector": "#a", "state": "visible"}]}}},
            "consent.browser.steps[0].state: only a wait step has a state",
        ),
        (
            {"consent": {"browser": {"login_steps": [{"action": "fill", "selector": "#user"}]}}},
            "consent.browser.login_steps[0].value: required by a fill step",
        ),
        (
            {"consent": {"browser": {"steps": [{"action": "wait", "selector": "#a", "state": "there"}]}}},
            "consent.browser.steps[0].state: must be one of attached, visible, hidden, detached",
        ),
        ({"consent": {"browser": {"timeout": 0}}}, "consent.browser.timeout: must be positive"),
        ({"clock": {"mode": "hook"}}, "clock.hook: required when clock.mode is hook"),
        ({"clock": {"wait_budget": "long"}}, "clock.wait_budget: must be int or float"),
        ({"policy": {"concurrency": -1}}, "policy.concurrency: must not be negative"),
        ({"policy": {"fetch_timeout": 0}}, "policy.fetch_timeout: must be positive"),
        ({"policy": {"fetch_timeout": "5"}}, "policy.fetch_timeout: must be int or float"),
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


def test_a_control_is_described_by_name_and_value_text_or_selector() -> None:
    form = parse_profile(
        {
            "consent": {
                "form": {
                    "login": {"name": ""},  # a button without a name can be described
                    "approve": {"text": "Continue", "name": ""},
                    "deny": {"selector": "a.cancel"},
                }
            }
        }
    ).consent.form
    assert form.login == ButtonSpec(name="")
    assert form.approve == ButtonSpec(name="", text="Continue")
    assert form.deny == ButtonSpec(selector="a.cancel")
    assert form.approve.describe() == '{ name = "", text = "Continue" }'
    assert ButtonSpec(name="action", value="deny").describe() == '{ name = "action", value = "deny" }'


def test_browser_steps_come_in_login_approve_and_deny_phases() -> None:
    browser = parse_profile(
        {
            "consent": {
                "driver": "browser",
                "browser": {
                    "login_steps": [{"action": "wait", "selector": "input[name=csrf]"}],
                    "deny_steps": [{"action": "click", "selector": "a.cancel"}],
                },
            }
        }
    ).consent.browser
    assert browser.login_steps[0].state == "attached"  # a wait needs no visibility unless it asks
    assert browser.login_steps[0].describe() == "wait 'input[name=csrf]'"
    assert browser.steps == ()


def test_the_worked_examples_in_the_profile_docs_parse() -> None:
    import re
    import tomllib
    from pathlib import Path

    profiles = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"
    blocks = re.findall(r"```toml\n(.*?)```", (profiles / "README.md").read_text(encoding="utf-8"), re.S)
    drivers = [parse_profile(tomllib.loads(block)).consent.driver for block in blocks]
    assert drivers == ["form", "browser"]
    for path in sorted(profiles.glob("*.toml")):
        parse_profile(tomllib.loads(path.read_text(encoding="utf-8")), str(path))


def test_a_run_uses_the_quick_budgets_unless_it_asks_for_the_thorough_ones() -> None:
    quick = parse_profile({}).robust
    assert (quick.max_examples, quick.early_answer_wait, quick.thorough) == (20, 0.05, False)
    thorough = parse_profile({"robust": {"thorough": True}}).robust
    assert (thorough.max_examples, thorough.early_answer_wait, thorough.thorough) == (50, 0.25, True)
    assert quick.made_thorough() == thorough


def test_budgets_the_profile_sets_win_over_thorough() -> None:
    robust = parse_profile({"robust": {"max_examples": 7, "early_answer_wait": 1.5}}).robust
    assert robust.chosen == {"max_examples", "early_answer_wait"}
    made = robust.made_thorough()
    assert (made.max_examples, made.early_answer_wait, made.thorough) == (7, 1.5, True)
    both = parse_profile({"robust": {"thorough": True, "max_examples": 7}}).robust
    assert (both.max_examples, both.early_answer_wait) == (7, 0.25)


def test_a_negative_early_answer_wait_is_refused() -> None:
    with pytest.raises(ProfileError, match=r"robust\.early_answer_wait: must not be negative"):
        parse_profile({"robust": {"early_answer_wait": -1}})


def test_the_thorough_option_gives_the_run_the_long_budgets() -> None:
    from oauth_conformance.run import Run
    from oauth_conformance.run import RunSettings

    assert Run(RunSettings()).profile.robust.max_examples == 20
    assert Run(RunSettings(thorough=True)).profile.robust.max_examples == 50


def test_a_declared_fetch_timeout_is_read_and_none_is_the_default() -> None:
    assert parse_profile({}).policy.fetch_timeout is None
    assert parse_profile({"policy": {"fetch_timeout": 2}}).policy.fetch_timeout == 2.0
