"""Controls that need an https endpoint, which the served twins (plain http on loopback) cannot
offer: the reference built in-process (suites/tests/twins/inprocess.py)."""

from __future__ import annotations

import orjson
import pytest

CONFTEST = "from oauth_conformance.specs.conftest import *  # noqa: F403\n"


@pytest.mark.parametrize(("http_too", "verdict"), [("yes", "pass"), ("no", "warn")])
def test_the_http_form_of_an_https_revocation_endpoint_is_looked_for(
    pytester: pytest.Pytester, http_too: str, verdict: str
) -> None:
    pytester.makeconftest(CONFTEST)
    target = f"asgi:suites.tests.twins.inprocess:https_revocation?http_too={http_too}"
    args = ["-p", "no:xdist", "--oauth-target", target, "--oauth-report-dir", "out"]
    args += ["--pyargs", "oauth_conformance.specs.rfc7009.test_revocation", "-k", "http_form"]
    pytester.runpytest_inprocess(*args)
    report = orjson.loads((pytester.path / "out" / "report.json").read_bytes())
    row = next(r for r in report["requirements"] if r["id"] == "RFC7009-2-HTTP-ALSO")
    assert row["verdict"] == verdict, row
    if verdict == "warn":
        assert "no revocation service" in row["reason"]
