"""How a run with workers hands out its tests (oauth_conformance.scheduling)."""

from __future__ import annotations

from oauth_conformance.scheduling import unit_of


def test_the_tests_of_a_shared_session_module_are_one_unit() -> None:
    fuzz = "specs/robust/test_fuzz.py"
    assert unit_of(f"{fuzz}::test_fuzzed_errors_are_not_cached") == fuzz
    assert unit_of(f"{fuzz}::test_no_fuzzed_request_gets_a_server_error") == fuzz
    machine = "specs/robust/test_state_machine.py"
    assert unit_of(f"{machine}::test_a_redeemed_code_never_works_again") == machine


def test_every_other_test_is_a_unit_of_its_own() -> None:
    nodeid = "specs/robust/test_hostile.py::test_absurdly_long_values_are_refused"
    assert unit_of(nodeid) == nodeid
    param = "specs/cimd/test_responses.py::test_a_document_served_with_another_status_is_refused[500]"
    assert unit_of(param) == param
