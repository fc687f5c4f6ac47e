"""Versions of the texts: pins, rows read as each version states them, and what changed between two."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from oauth_conformance import cli
from oauth_conformance.catalogue import SPECS
from oauth_conformance.catalogue import registry
from oauth_conformance.catalogue import select
from oauth_conformance.profile import ProfileError
from oauth_conformance.profile import parse_profile
from oauth_conformance.report.compare import matrix
from oauth_conformance.report.compare import write_matrix
from oauth_conformance.versions import UnknownVersion
from oauth_conformance.versions import changes
from oauth_conformance.versions import chosen
from oauth_conformance.versions import describe
from oauth_conformance.versions import parse_pins


def test_the_newest_version_of_each_text_is_the_default() -> None:
    versions = chosen()
    assert versions["OAUTH21"] == "16" and versions["IDJAG"] == "04" and versions["CIMD"] == "02"
    assert versions["RFC6749"] == "RFC"
    assert SPECS["OAUTH21"].version == "draft-ietf-oauth-v2-1-16"


def test_pins_name_versions_several_ways_and_refuse_unknown_ones() -> None:
    assert parse_pins(["OAUTH21=13", "cimd=-01", "IDJAG=draft-ietf-oauth-identity-assertion-authz-grant-03"]) == {
        "OAUTH21": "13",
        "CIMD": "01",
        "IDJAG": "03",
    }
    with pytest.raises(UnknownVersion, match="known: 13, 15, 16"):
        parse_pins(["OAUTH21=12"])
    with pytest.raises(UnknownVersion, match="unknown spec token"):
        parse_pins(["OAUTH22=1"])
    with pytest.raises(UnknownVersion, match="TOKEN=VERSION"):
        parse_pins(["OAUTH21"])
    assert chosen({"OAUTH21": "15"}, {"OAUTH21": "13"})["OAUTH21"] == "13"  # the command line wins


def test_a_pinned_version_leaves_out_the_rows_it_lacks_and_keeps_ids_stable() -> None:
    old = {r.id: r for r in select(["OAUTH21"], versions={"OAUTH21": "13"})}
    new = {r.id: r for r in select(["OAUTH21"])}
    assert "OAUTH21-2.4-JWT-AUD" not in old and "OAUTH21-2.4-JWT-AUD" in new  # new in -15
    assert "OAUTH21-4.1.2-ISS" not in old and "OAUTH21-4.1.2-ISS" in new  # new in -16
    moved = "OAUTH21-7.12.2-AUTH-BEFORE-ERROR"
    assert old[moved].where == "7.12.2" and new[moved].where == "7.13.2"
    assert old[moved].quote != new[moved].quote
    assert new[moved].link.endswith("draft-ietf-oauth-v2-1-16#section-7.13.2")
    assert old[moved].quote_source == "draft-ietf-oauth-v2-1-13, section 7.12.2"


def test_a_rule_can_change_its_level_between_versions() -> None:
    row = registry()["CIMD-6.5-SSRF-EMBEDDED"]
    before, after = row.at("01"), row.at("02")
    assert before is not None and after is not None
    assert (before.level, after.level) == ("SHOULD", "MUST")
    assert registry()["CIMD-4.1-NO-PRIVATE-KEYS"].at("01") is None  # -02 brought it


def test_changes_between_versions_are_listed() -> None:
    found = {c.id: c for c in changes("CIMD", "01", "02")}
    assert found["CIMD-4.1-NO-PRIVATE-KEYS"].kinds == ("added",)
    assert found["CIMD-6.5-SSRF-EMBEDDED"].kinds == ("moved", "relevelled", "reworded")
    assert "SHOULD became MUST" in found["CIMD-6.5-SSRF-EMBEDDED"].describe()
    assert not changes("OAUTH21", "16", "16")


def test_the_profile_pins_versions(tmp_path: Path) -> None:
    profile = parse_profile({"versions": {"OAUTH21": "13", "cimd": "-01"}})
    assert dict(profile.versions) == {"OAUTH21": "13", "CIMD": "01"}
    with pytest.raises(ProfileError, match=r"versions\.OAUTH21: OAUTH21 has no version"):
        parse_profile({"versions": {"OAUTH21": "99"}})
    with pytest.raises(ProfileError, match="unknown spec token"):
        parse_profile({"versions": {"NOPE": "1"}})


def test_a_report_names_the_versions_it_tested() -> None:
    info = describe({"OAUTH21": "13"}, ["OAUTH21", "RFC6749"])
    assert info["OAUTH21"]["version"] == "draft-ietf-oauth-v2-1-13" and info["OAUTH21"]["pinned"] is True
    assert info["OAUTH21"]["newest"] == "draft-ietf-oauth-v2-1-16" and "MCP" in str(info["OAUTH21"]["note"])
    assert info["RFC6749"]["document"] == "RFC 6749" and info["RFC6749"]["pinned"] is False


def _report(version: str, rows: list[tuple[str, str, str]]) -> dict[str, object]:
    pinned = version != "16"
    return {
        "schema_version": 1,
        "harness": {
            "specs": {
                "OAUTH21": {
                    "version": f"draft-ietf-oauth-v2-1-{version}",
                    "version_name": version,
                    "pinned": pinned,
                }
            }
        },
        "target": {"name": "the-server"},
        "requirements": [
            {"id": rid, "spec": "OAUTH21", "section": section, "level": "MUST", "verdict": verdict}
            for rid, section, verdict in rows
        ],
    }


def test_compare_across_versions_shows_what_the_texts_change(tmp_path: Path) -> None:
    old = _report("13", [("OAUTH21-7.12.2-AUTH-BEFORE-ERROR", "7.12.2", "pass"), ("OAUTH21-3.1-GET", "3.1", "pass")])
    new = _report(
        "16",
        [
            ("OAUTH21-7.12.2-AUTH-BEFORE-ERROR", "7.13.2", "pass"),
            ("OAUTH21-3.1-GET", "3.1", "pass"),
            ("OAUTH21-4.1.2-ISS", "4.1.2", "fail"),
        ],
    )
    m = matrix([("a/report.json", old), ("b/report.json", new)])
    assert m.targets == ["the-server (OAUTH21 13)", "the-server"]
    assert m.version_differences == {"OAUTH21": ["draft-ietf-oauth-v2-1-13", "draft-ietf-oauth-v2-1-16"]}
    assert "OAUTH21-4.1.2-ISS: not in the version the-server (OAUTH21 13) tested" in m.text_changes()
    assert "OAUTH21-7.12.2-AUTH-BEFORE-ERROR: section 7.12.2 / 7.13.2" in m.text_changes()
    write_matrix(m, tmp_path)
    text = (tmp_path / "compare.md").read_text()
    assert "## Texts tested in different versions" in text and "draft-ietf-oauth-v2-1-13" in text
    data = orjson.loads((tmp_path / "compare.json").read_bytes())
    assert data["versions"]["the-server"] == {"OAUTH21": "draft-ietf-oauth-v2-1-16"}


def test_the_catalogue_command_lists_versions_and_changes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["catalogue", "--versions", "--spec", "OAUTH21"]) == 0
    out = capsys.readouterr().out
    assert "draft-ietf-oauth-v2-1-16" in out and "(default)" in out and "cited by MCP" in out
    assert cli.main(["catalogue", "--changes", "OAUTH21=13..16"]) == 0
    assert "OAUTH21-4.1.2-ISS: new in draft-ietf-oauth-v2-1-16" in capsys.readouterr().out
    assert cli.main(["catalogue", "--spec", "OAUTH21", "--spec-version", "OAUTH21=13", "--format", "json"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert {r["spec_version"] for r in rows} == {"draft-ietf-oauth-v2-1-13"}
    assert cli.main(["catalogue", "--spec-version", "OAUTH21=2"]) == cli.EXIT_USAGE
