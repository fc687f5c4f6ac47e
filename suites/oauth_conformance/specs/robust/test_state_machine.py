"""ROBUST state machine: random programs over the live target (``oauth_conformance.robust.stateful``),
run once per run within ``[robust] stateful_examples``, ``stateful_steps`` and ``time_budget``;
each test here reports one invariant. A violated invariant's evidence is the shortest failing
program hypothesis found, step by step with its requests (redacted): a replayable sequence."""

from __future__ import annotations

import httpx
import pytest

from oauth_conformance import requirement
from oauth_conformance.evidence import Recorder
from oauth_conformance.robust import stateful
from oauth_conformance.robust.stateful import MachineResult
from oauth_conformance.robust.stateful import run_machine
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import not_tested

MACHINE_RUN = pytest.StashKey["MachineResult | BaseException"]()
UNLOCKS = {
    stateful.AUDIENCE: "[robust] other_resource",
    stateful.REVOKED_ACCESS: "[resource] url",
}


@pytest.fixture
def machine(
    request: pytest.FixtureRequest, target: Target, oauth: OAuth, clients: Clients, http: httpx.Client
) -> MachineResult:
    """The run's one state-machine session (the first test that needs it runs it, with its fixtures)."""
    stash = request.config.stash
    if MACHINE_RUN not in stash:
        try:
            stash[MACHINE_RUN] = run_machine(target, oauth, clients, http)
        except Exception as exc:  # kept, so every invariant reports the same error
            stash[MACHINE_RUN] = exc
    found = stash[MACHINE_RUN]
    if isinstance(found, BaseException):
        raise RuntimeError(f"the state machine failed: {type(found).__name__}: {found}") from found
    return found


def assert_invariant_held(result: MachineResult, requirement_id: str, recorder: Recorder, exercise: str) -> None:
    __tracebackhide__ = True
    recorder.notes.append(f"state machine: {result.summary()}")
    recorder.notes.extend(f"state machine: {note}" for note in result.notes[:5])
    violation = result.violations.get(requirement_id)
    if violation is not None:
        for item in violation.evidence():
            recorder.attach(item)
        raise AssertionError(
            f"{violation.message}; shortest failing program ({len(violation.steps)} steps): {violation.program}"
        )
    if requirement_id in result.skipped:
        not_tested(result.skipped[requirement_id], unlock=UNLOCKS.get(requirement_id))
    if not result.exercised.get(requirement_id):
        stopped = f"; it stopped: {result.stopped}" if result.stopped else ""
        notes = f"; notes: {'; '.join(result.notes[:3])}" if result.notes else ""
        not_tested(f"the state machine never {exercise} ({result.summary()}{stopped}{notes})", unlock=result.unlock())


@requirement("ROBUST-STATE-CODE-ONCE", "OAUTH21-4.1.3-CODE-ONCE")
def test_a_redeemed_code_never_works_again(machine: MachineResult, recorder: Recorder) -> None:
    assert_invariant_held(machine, stateful.CODE_ONCE, recorder, "replayed a redeemed code")


@requirement("ROBUST-STATE-REVOKED", "RFC7009-2.1-IMMEDIATE")
def test_a_revoked_refresh_token_never_works_again(machine: MachineResult, recorder: Recorder) -> None:
    assert_invariant_held(machine, stateful.REVOKED, recorder, "replayed a revoked refresh token")


@requirement("ROBUST-STATE-REVOKED-ACCESS", "RFC7009-2-ACCESS", "RFC7009-2.1-CASCADE")
def test_revoked_access_tokens_never_reach_the_resource_again(machine: MachineResult, recorder: Recorder) -> None:
    assert_invariant_held(machine, stateful.REVOKED_ACCESS, recorder, "used a revoked access token")


@requirement("ROBUST-STATE-RT-SUPERSEDED", "OAUTH21-4.3.1-RT-SUPERSEDED")
def test_a_superseded_refresh_token_dies_once_its_successor_is_used(machine: MachineResult, recorder: Recorder) -> None:
    assert_invariant_held(machine, stateful.SUPERSEDED, recorder, "replayed a rotated-out refresh token")


@requirement("ROBUST-STATE-AUDIENCE")
def test_an_access_token_reaches_only_its_own_resource(machine: MachineResult, recorder: Recorder) -> None:
    assert_invariant_held(machine, stateful.AUDIENCE, recorder, "took a token to another resource")


@requirement("ROBUST-STATE-SCOPE", "OAUTH21-4.3.1-RT-SCOPE")
def test_refreshes_never_widen_the_scope(machine: MachineResult, recorder: Recorder) -> None:
    assert_invariant_held(machine, stateful.SCOPE, recorder, "refreshed a grant with a known scope")
