"""No secret in any report: the committed ones, the ones the harness writes, the console.

The scanner (``redaction.leaks``) is proven on planted secrets first (its positive control), then
run over every report under reports/. Every report the self-tests write is scanned by the autouse
fixture in conftest.py; the end-to-end test here makes the harness handle a profile secret, a
registered secret in a repr and a body cut short, and scans every output.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import orjson
import pytest

from oauth_conformance.drivers.base import parse_callback
from oauth_conformance.embedded import embedded_profile
from oauth_conformance.redaction import KNOWN
from oauth_conformance.redaction import SecretBook
from oauth_conformance.redaction import leaks
from oauth_conformance.redaction import redact_body
from oauth_conformance.redaction import scrub_text
from oauth_conformance.robust.hostile import Sender
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import Tokens
from oauth_conformance.support.raw_http import READ_LIMIT
from oauth_conformance.trust import keys

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"
SECRET = "s3cr3t-Value-0123456789abcdef"  # planted; never a real secret


def the_test_keys_private_parts() -> SecretBook:
    """Private key material every run knows: the TEST-ONLY keys' private members."""
    for name in (keys.IDP_RS256, keys.IDP_ES256, keys.UNTRUSTED_RS256, keys.CLIENT_RS256):
        keys.private_key(name)
    book = SecretBook()
    book.update(KNOWN.values())
    return book


@pytest.mark.parametrize(
    "text",
    [
        f"the secret {SECRET} in prose",
        f"percent-encoded: x={quote(SECRET, safe='')}",
        json.dumps({"evidence": json.dumps({"note": SECRET})}),  # a JSON body quoted inside report.json
        f"<td>&quot;{SECRET}&quot;</td>",
        '{"client_secret":"abcdefgh12345678',  # a body cut short
        '{\\"access_token\\":\\"eyJhbGciOi.payload.sig\\"}',  # escaped in a JSON string
        "http://127.0.0.1:8976/callback?code=test-user%3AyrsL1Wd8OW7f7x%3A58IEh&state=q",
        "&lt;a href=&quot;cb#access_token=abcdef0123456789&amp;x=1&quot;&gt;",
        "Authorization: Bearer abc.def-ghi_jkl123456",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n-----END PRIVATE KEY-----",
        '{"kty":"EC","d":"' + "A" * 43 + '"}',
    ],
)
def test_the_scanner_finds_a_planted_secret(text: str) -> None:
    book = SecretBook()
    book.add(SECRET)
    assert leaks(text, book), text
    assert not leaks(scrub_text(text, book), book), scrub_text(text, book)


@pytest.mark.parametrize(
    "text",
    [
        'WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="the Bearer challenge"',
        '{"client_secret":"<redacted 1234abcd>","token_type":"Bearer","code":400}',
        "a revocation with an empty `token=` answered 200",
        "code_challenge=abc&code_challenge_method=S256&token_endpoint=https://as.example/token",
    ],
)
def test_the_scanner_leaves_what_is_not_a_secret(text: str) -> None:
    assert leaks(text, SecretBook()) == []
    assert scrub_text(text) == text


def test_no_committed_report_shows_a_secret() -> None:
    book = the_test_keys_private_parts()
    files = [p for p in REPORTS.rglob("*") if p.is_file() and p.suffix in (".json", ".md", ".html", ".xml", ".svg")]
    assert len(files) > 20  # the scan has something to scan
    found = [f"{p.relative_to(ROOT)}: {leak}" for p in files for leak in leaks(p.read_text("utf-8", "replace"), book)]
    assert not found, f"{len(found)} secret(s) in committed reports: " + "; ".join(found[:8])


def test_reprs_of_objects_holding_secrets_mask_them() -> None:
    client = Client("id-1", "client_secret_basic", "http://127.0.0.1/cb", SECRET, {"client_secret": SECRET})
    tokens = Tokens.from_response(
        httpx.Response(200, json={"access_token": SECRET + "-a", "refresh_token": SECRET + "-r", "token_type": "x"})
    )
    callback = parse_callback(f"http://127.0.0.1/cb?code={quote(SECRET)}&state=s", 302)
    for shown in (repr(client), repr(tokens), repr(callback), f"{[client, tokens]!r}", str(client)):
        assert SECRET not in shown and quote(SECRET) not in shown, shown
        assert "<redacted" in shown
    assert "id-1" in repr(client) and "state" in repr(callback)


def test_a_body_cut_short_keeps_its_secret_members_masked() -> None:
    body = b'{"client_id":"c","client_secret":"' + SECRET.encode() + b'","client_name":"' + b"A" * 10_000
    shown = redact_body(body, "application/json")
    assert SECRET not in shown and '"client_secret":"<redacted' in shown


@pytest.fixture
def cut_registration() -> Iterator[str]:
    """A server whose registration answer is bigger than the raw-socket reader keeps (READ_LIMIT)."""
    secret = "raw-socket-secret-" + "0123456789"

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = b'{"client_secret":"' + secret.encode() + b'","client_name":"' + b"A" * (READ_LIMIT + 10) + b'"}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/register|{secret}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_raw_socket_answer_cut_at_its_limit_feeds_the_known_secrets(cut_registration: str) -> None:
    url, secret = cut_registration.split("|")
    target = SimpleNamespace(in_process=False)
    with httpx.Client() as http:
        # A stand-in for the Target (the ignore): the sender reads only in_process.
        sender = Sender(target, http, timeout=10.0)  # type: ignore[arg-type]
        answer = sender.json("a registration", url, "{}")
    assert answer.status == 201 and answer.response is not None
    assert len(answer.response.content) <= READ_LIMIT
    assert secret in KNOWN
    evidence = orjson.dumps(answer.evidence()).decode()
    assert secret not in evidence and not leaks(evidence)


CONFTEST = "from oauth_conformance.specs.conftest import *  # noqa: F403\n"
LEAKY_TESTS = """
import os
import pytest

@pytest.mark.requirement("RFC8414-3.2-NO-EMPTY")
def test_leaks_through_a_repr(clients):
    client = clients.provisioned("confidential")
    assert client is None, f"unexpected {client!r}"

@pytest.mark.requirement("RFC8414-2-PKCE-NO-PLAIN")
def test_leaks_through_a_message():
    print("captured output:", os.environ["OAUTH_CONFORMANCE_TEST_SECRET"])
    assert False, "the secret is " + os.environ["OAUTH_CONFORMANCE_TEST_SECRET"]

@pytest.mark.requirement("RFC8414-3.2-200-JSON")
def test_leaks_through_a_registration(clients, recorder):
    client = clients.confidential()
    recorder.flag("registered", f"registered {client.client_id} with {client.client_secret}")
    assert not client.client_secret, "got secret " + client.client_secret
"""


def test_no_output_of_a_run_shows_a_secret_the_profile_or_the_run_knows(
    pytester: pytest.Pytester, reference_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTH_CONFORMANCE_TEST_SECRET", SECRET)
    pytester.makeconftest(CONFTEST)
    profile = embedded_profile(reference_url) + (
        '\n[[clients]]\nkind = "confidential"\nclient_id = "from-the-profile"\n'
        'client_secret = { env = "OAUTH_CONFORMANCE_TEST_SECRET" }\nauth_method = "client_secret_basic"\n'
    )
    (pytester.path / "profile.toml").write_text(profile, encoding="utf-8")
    pytester.makepyfile(LEAKY_TESTS)
    args = ["-p", "no:xdist", "--oauth-target", reference_url, "--oauth-profile", "profile.toml"]
    result = pytester.runpytest_inprocess(*args, "--oauth-report-dir", "out", "-rA")
    report = orjson.loads((pytester.path / "out" / "report.json").read_bytes())
    assert {r["id"]: r["verdict"] for r in report["requirements"]}["RFC8414-3.2-NO-EMPTY"] == "fail"
    registered = [v for v in KNOWN.values() if v != SECRET]
    outputs = {p.name: p.read_text("utf-8") for p in (pytester.path / "out").iterdir()}
    outputs["console"] = result.stdout.str() + result.stderr.str()
    assert "<redacted" in outputs["console"]  # the messages are there, masked
    for name, text in outputs.items():
        assert SECRET not in text, f"the profile's secret is in {name}"
        assert not leaks(text), f"{name}: {leaks(text)[:3]}"
    assert any(v in registered for v in KNOWN.values())  # the registered client's secret was learnt
