"""The faults seam: named, documented, given only through the Python API, consulted where it says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import oauth_reference
from oauth_reference import ConfigurationError
from oauth_reference import OAuthProvider
from oauth_reference.faults import FAULTS
from oauth_reference.faults import NO_FAULTS
from oauth_reference.faults import Faults
from oauth_reference.serving import cli
from oauth_reference.serving.config import load_config

PACKAGE = Path(oauth_reference.__file__).parent
CONSULTED = re.compile(r"""faults\.(on|wrap)\(\s*["']([^"']+)["']""")


def consultations() -> list[tuple[Path, str, str]]:
    """Every (module, on|wrap, name) the reference's code consults."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for kind, name in CONSULTED.findall(path.read_text(encoding="utf-8")):
            found.append((path, kind, name))
    return found


def test_unknown_names_raise_at_construction_with_a_hint() -> None:
    with pytest.raises(ValueError, match="unknown fault 'pkce-verfy'; did you mean 'pkce-verify'"):
        Faults({"pkce-verfy": lambda step, *args: step(*args)})
    with pytest.raises(ValueError, match="unknown fault"):
        Faults({"no-such-fault"})


def test_a_switch_takes_no_hook_and_a_hook_needs_a_function() -> None:
    with pytest.raises(ValueError, match="is a switch"):
        Faults({"code-verifier-optional": lambda: None})
    with pytest.raises(ValueError, match="is a hook"):
        Faults({"pkce-verify"})
    with pytest.raises(ValueError, match="is a hook"):
        NO_FAULTS.on("pkce-verify")
    with pytest.raises(ValueError, match="is a switch"):
        NO_FAULTS.wrap("code-verifier-optional", print)


def test_no_faults_leaves_every_step_as_it_is() -> None:
    def step(value: int) -> int:
        return value + 1

    assert not NO_FAULTS
    assert NO_FAULTS.wrap("pkce-verify", step) is step
    assert not any(NO_FAULTS.on(name) for name, fault in FAULTS.items() if fault.hook is None)


def test_a_hook_runs_with_the_step_first_and_a_switch_is_on() -> None:
    faults = Faults({"pkce-verify": lambda verify, v, c, m: not verify(v, c, m), "code-verifier-optional": True})

    def same(verifier: str, challenge: str, method: str) -> bool:
        return verifier == challenge

    verify = faults.wrap("pkce-verify", same)
    assert verify("a", "b", "S256") and not verify("a", "a", "S256")
    assert faults.on("code-verifier-optional")
    assert faults.names == {"pkce-verify", "code-verifier-optional"}
    assert "pkce-verify" in repr(faults) and "lambda" not in repr(faults)


def test_every_fault_is_consulted_where_the_table_says_and_only_known_ones_are() -> None:
    found = consultations()
    for path, kind, name in found:
        assert name in FAULTS, f"{path.name} consults {name!r}, which is not in FAULTS"
        assert (kind == "wrap") == (FAULTS[name].hook is not None), f"{path.name}: {name} is consulted with {kind}()"
    where = {(name, str(path.relative_to(PACKAGE))) for path, _, name in found}
    for name, fault in FAULTS.items():
        assert (name, fault.where) in where, f"{name} is not consulted in {fault.where}"
        assert fault.ids, f"{name} names no requirement id"


def test_the_provider_takes_only_a_faults_object() -> None:
    async def app(scope: object, receive: object, send: object) -> None: ...

    options: dict[str, Any] = {"authorize_endpoint": "/authorize", "token_endpoint": "/token", "default_handler": app}
    options |= {"api_route": "/api/", "api_handler": app}
    with pytest.raises(ConfigurationError, match="faults must be a Faults object"):
        # A list of names, not a Faults object (the ignore): what the check refuses.
        OAuthProvider(faults=["code-verifier-optional"], **options)  # type: ignore[arg-type]
    assert OAuthProvider(**options).core.faults is NO_FAULTS
    chosen = Faults({"code-verifier-optional"})
    assert OAuthProvider(faults=chosen, **options).core.faults is chosen


def test_faults_cannot_come_from_a_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "options.toml"
    config.write_text('faults = ["code-verifier-optional"]\n')
    with pytest.raises(ConfigurationError, match="faults is code, not configuration"):
        load_config(config)
    assert cli.main(["serve", "--port", "0", "--store", "memory", "--config", str(config)]) == 2
    assert "faults is code, not configuration" in capsys.readouterr().err
