"""The recorder: what it keeps of a test's exchanges, and when it redacts them."""

from __future__ import annotations

import httpx
import pytest

from oauth_conformance import evidence
from oauth_conformance.evidence import Recorder
from oauth_conformance.evidence import record


def _token_response(secret: str) -> httpx.Response:
    request = httpx.Request(
        "POST",
        "https://as.example/token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=f"grant_type=authorization_code&code=c0de-{secret}&client_secret={secret}".encode(),
    )
    return httpx.Response(200, json={"access_token": f"at-{secret}", "token_type": "Bearer"}, request=request)


def test_a_kept_exchange_is_redacted_when_first_shown_and_as_it_would_have_been_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    response = _token_response("kept-secret-4711")
    expected = record(response, "the exchange")
    made: list[httpx.Response] = []

    def counting(response: httpx.Response, note: str = "") -> evidence.Exchange:
        made.append(response)
        return record(response, note)

    monkeypatch.setattr(evidence, "record", counting)
    recorder = Recorder()
    recorder.add(response, "the exchange")
    assert made == [], "the exchange was redacted before anything asked for it"
    assert recorder.exchanges == [expected]
    assert recorder.exchanges == [expected]
    assert len(made) == 1, "a kept exchange is redacted once"
    assert "kept-secret-4711" not in repr(recorder.evidence())


def test_the_recorder_keeps_the_last_exchanges_and_marks_those_since() -> None:
    recorder = Recorder(keep=2)
    responses = [_token_response(f"keep-{n}") for n in range(3)]
    recorder.add(responses[0])
    mark = recorder.count
    recorder.add(responses[1], "second")
    recorder.add(responses[2], "third")
    assert [e.note for e in recorder.exchanges] == ["second", "third"]
    assert [e["note"] for e in recorder.since(mark)] == ["second", "third"]
    assert [e["note"] for e in recorder.since(mark + 1)] == ["third"]
