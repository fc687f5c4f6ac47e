"""Profiles say which verdicts a target's fixture provides; reports and the compare matrix show it.
And TLS rows on a loopback http target are not_tested with the unlock hint (issue 14.3)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import orjson
import pytest

from oauth_conformance.embedded import embedded_profile
from oauth_conformance.profile import ProfileError
from oauth_conformance.profile import parse_profile
from oauth_conformance.report.compare import FIXTURE_MARK
from oauth_conformance.report.compare import matrix
from oauth_conformance.report.compare import write_matrix

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "fixtures" / "profiles"
NOTE = '[[notes]]\nids = ["OAUTH21-2.3.1-EXACT-MATCH"]\nprovided_by = "fixture"\nwhy = "our client model matches"\n'


def test_a_note_names_known_requirements_and_what_provides_them() -> None:
    profile = parse_profile(tomllib.loads(NOTE))
    note = profile.note_for("OAUTH21-2.3.1-EXACT-MATCH")
    assert note is not None and note.provided_by == "fixture" and note.why == "our client model matches"
    assert profile.note_for("RFC7636-4.6-S256-VERIFY") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (NOTE.replace("EXACT-MATCH", "EXACT-MATCHES"), "did you mean OAUTH21-2.3.1-EXACT-MATCH"),
        (NOTE.replace('"fixture"', '"library"'), "must be one of fixture"),
        (NOTE.replace('why = "our client model matches"\n', ""), "provided_by and why are required"),
        ('[[notes]]\nids = []\nprovided_by = "fixture"\nwhy = "x"\n', "must be a list of requirement ids"),
    ],
)
def test_a_malformed_note_is_a_profile_error(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_profile(tomllib.loads(text))


def test_the_real_targets_profiles_mark_the_glue_issue_14_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_IDJAG_CLIENT_SECRET", "set-by-the-test-only")
    from oauth_conformance.profile import load_profile

    authlib = load_profile(PROFILES / "authlib.toml")
    for rid in ("OAUTH21-4.1.2.1-PKCE-CONF", "OAUTH21-2.3.1-EXACT-MATCH", "OAUTH21-4.1.3-CODE-ONCE"):
        assert authlib.note_for(rid) is not None, rid
    mcp = load_profile(PROFILES / "mcp-python.toml")
    for rid in ("RFC8707-2.2-INVALID-TARGET", "OAUTH21-4.3.1-RT-REUSE", "IDJAG-4.4.1-CLIENT-BIND"):
        assert mcp.note_for(rid) is not None, rid
    for name in ("oidc-provider", "cloudflare-0.8.3"):
        assert load_profile(PROFILES / f"{name}.toml").request.resource == "{target}/api", name
    assert authlib.idjag.trusted and mcp.idjag.trusted  # their JWT bearer paths are switched on


def report(name: str, notes: dict[str, Any] | None = None) -> dict[str, Any]:
    target: dict[str, Any] = {"url": "https://as.example", "name": name}
    if notes:
        target["requirement_notes"] = notes
    rows = [{"id": "OAUTH21-2.3.1-EXACT-MATCH", "level": "MUST", "verdict": "pass"}]
    return {"schema_version": 1, "target": target, "requirements": rows, "notes": []}


def test_the_compare_matrix_marks_a_verdict_the_fixture_provides(tmp_path: Path) -> None:
    note = {"OAUTH21-2.3.1-EXACT-MATCH": {"provided_by": "fixture", "why": "our client model matches"}}
    m = matrix([("a.json", report("lib-a", note)), ("b.json", report("lib-b"))])
    write_matrix(m, tmp_path)
    md = (tmp_path / "compare.md").read_text()
    assert f"✅ pass {FIXTURE_MARK} | ✅ pass |" in md
    assert "`OAUTH21-2.3.1-EXACT-MATCH` on lib-a: provided by the fixture: our client model matches" in md
    row = orjson.loads((tmp_path / "compare.json").read_bytes())["rows"][0]
    assert row["provided_by"] == {"lib-a": "fixture"}
    assert "our client model matches" in (tmp_path / "compare.html").read_text()


CONFTEST = "from oauth_conformance.specs.conftest import *  # noqa: F403\n"


def test_tls_rows_on_loopback_http_are_not_tested_with_the_unlock_hint(
    pytester: pytest.Pytester, reference_url: str
) -> None:
    pytester.makeconftest(CONFTEST)
    profile = embedded_profile(reference_url) + "\n" + NOTE
    (pytester.path / "profile.toml").write_text(profile, encoding="utf-8")
    args = ["-p", "no:xdist", "--oauth-target", reference_url, "--oauth-profile", "profile.toml"]
    args += ["--oauth-report-dir", "out", "--pyargs", "oauth_conformance.specs.rfc8414", "-k", "tls or https"]
    result = pytester.runpytest_inprocess(*args)
    data = orjson.loads((pytester.path / "out" / "report.json").read_bytes())
    verdicts = {r["id"]: r for r in data["requirements"]}
    tls = verdicts["RFC8414-2-ISSUER-HTTPS"]
    assert tls["verdict"] == "not_tested", tls
    assert "TLS was not exercised" in tls["reason"]
    assert any(t.get("unlock", "").startswith("an https:// target URL") for t in data["tests"])
    result.stdout.fnmatch_lines(["*need profile setting an https:// target URL*"])
    assert data["target"]["requirement_notes"]["OAUTH21-2.3.1-EXACT-MATCH"]["provided_by"] == "fixture"
