"""ROBUST fuzzing: schemathesis drives the OpenAPI description derived from the target's metadata
(``oauth_conformance.robust.fuzz``), once per run and within ``[robust] time_budget``; each test
here judges one property over every exchange of that run. A finding's first exchanges (redacted)
are the test's evidence."""

from __future__ import annotations

import pytest

from oauth_conformance import http as http_module
from oauth_conformance import requirement
from oauth_conformance.evidence import Recorder
from oauth_conformance.robust import oracles
from oauth_conformance.robust.fuzz import FuzzResult
from oauth_conformance.robust.fuzz import fuzz
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import Outcome

FUZZ_RUN = pytest.StashKey["FuzzResult | BaseException"]()


@pytest.fixture
def fuzzing(request: pytest.FixtureRequest, target: Target, clients: Clients, oauth: OAuth) -> FuzzResult:
    """The run's one fuzzing session (the first test that needs it runs it, with its fixtures)."""
    stash = request.config.stash
    if FUZZ_RUN not in stash:
        if target.endpoint("token_endpoint") is None:
            stash[FUZZ_RUN] = NotTested("the metadata has no token_endpoint to fuzz")
        else:
            timeout = target.profile.robust.request_timeout
            try:
                with http_module.client(transport=target.transport(), timeout=timeout) as client:
                    stash[FUZZ_RUN] = fuzz(target, client, clients, oauth)
            except Exception as exc:  # kept, so every fuzzing test reports the same error
                stash[FUZZ_RUN] = exc
    found = stash[FUZZ_RUN]
    if isinstance(found, Outcome):
        raise type(found)(found.reason, unlock=found.unlock)
    if isinstance(found, BaseException):
        raise RuntimeError(f"the fuzzing run failed: {type(found).__name__}: {found}") from found
    return found


def assert_nothing_found(result: FuzzResult, requirement_id: str, recorder: Recorder) -> None:
    __tracebackhide__ = True
    recorder.notes.append(f"fuzzing: {result.summary()}")
    recorder.notes.extend(f"fuzzing: {note}" for note in result.notes)
    found = result.for_requirement(requirement_id)
    for finding in found:
        # One finding per endpoint: the property and where it broke, not the random input.
        recorder.flag(finding.endpoint, finding.describe(), finding.examples)
    total = sum(f.count for f in found)
    assert not found, f"{total} finding(s) in {result.requests} fuzzed requests: " + "; ".join(
        f.describe() for f in found[:4]
    )


@requirement("ROBUST-FUZZ-NO-5XX")
def test_no_fuzzed_request_gets_a_server_error(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.NO_5XX, recorder)


@requirement("ROBUST-FUZZ-NO-HANG")
def test_every_fuzzed_request_is_answered_in_time(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.NO_HANG, recorder)


@requirement("ROBUST-FUZZ-ERROR-SHAPE")
def test_fuzzed_errors_are_rfc6749_error_objects_with_registered_codes(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.ERROR_SHAPE, recorder)


@requirement("ROBUST-FUZZ-ERROR-NO-STORE")
def test_fuzzed_errors_are_not_cached(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.ERROR_NO_STORE, recorder)


@requirement("ROBUST-FUZZ-MISSING-REQUIRED")
def test_nothing_succeeds_without_its_required_parameters(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.MISSING_REQUIRED, recorder)


@requirement("ROBUST-FUZZ-NO-REFLECTION")
def test_no_page_reflects_markup_unescaped(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.NO_REFLECTION, recorder)


@requirement("ROBUST-FUZZ-NO-OPEN-REDIRECT")
def test_nothing_redirects_to_an_unregistered_uri(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.NO_OPEN_REDIRECT, recorder)


@requirement("ROBUST-FUZZ-NO-STACK-TRACE")
def test_no_body_shows_a_stack_trace_or_server_path(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.NO_STACK_TRACE, recorder)


@requirement("ROBUST-FUZZ-NO-SECRET-LEAK")
def test_no_body_carries_a_secret_from_another_exchange(fuzzing: FuzzResult, recorder: Recorder) -> None:
    assert_nothing_found(fuzzing, oracles.NO_SECRET_LEAK, recorder)
