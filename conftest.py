"""The project's tests as a whole (README's test command): the longest start first, and the
bytecode cached.

With xdist the run ends when its last worker does; a test of several minutes dealt out late keeps
one worker busy while the other has nothing left. Measured with ``--durations`` on this 2-core
machine, these take from 20 seconds to several minutes each; everything else takes seconds. The
twins among them mostly wait (a server that hangs, a document served drop by drop): started early,
their waits overlap the other workers' work instead of being the run's last seconds.

The tests start hundreds of Python processes (xdist's workers, the served references, the CLI
under test), and each imports the harness and the reference. Where ``PYTHONDONTWRITEBYTECODE`` is
set (container images often set it), none of them finds compiled bytecode, so every one compiles
every module again from source: about 0.8 s of CPU per process. The run then keeps its bytecode
under ``.pycache/`` at the repository's root instead (``PYTHONPYCACHEPREFIX``, inherited by every
process the tests start), so nothing is written beside the sources, as the setting wants.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PYCACHE = Path(__file__).resolve().parent / ".pycache"


def _cache_bytecode() -> None:
    """Compiled bytecode under :data:`PYCACHE` for this process and the ones it starts, where the
    environment turned the cache off; a prefix the user chose stays."""
    if not os.environ.pop("PYTHONDONTWRITEBYTECODE", ""):
        return
    prefix = os.environ.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


_cache_bytecode()

# Longest first (node id prefixes, relative to the repository root).
LONGEST = (
    "suites/tests/test_consent_real_pages.py::test_the_form_and_browser_drivers_reach_the_auto_approve_yardstick",
    "suites/tests/test_real_targets.py",
    "suites/tests/test_no_registration.py",
    "suites/tests/test_coverage.py",
    "suites/tests/test_robust_suite.py",
    "suites/tests/test_wheel.py",
    "suites/tests/test_cli.py::test_the_cli_and_plain_pytest_give_the_same_verdicts",
    "suites/tests/test_twins.py::test_twin_fails_exactly_its_requirements[robust-hangs-on-huge-body]",
    "suites/tests/test_twins.py::test_twin_fails_exactly_its_requirements[cimd-slow-fetch-awaited]",
    "suites/tests/test_twins.py::test_twin_fails_exactly_its_requirements[robust-hangs-on-non-ascii]",
    "suites/tests/test_robust_state.py::test_a_violation_is_reported_as_a_replayable_request_sequence",
    "suites/tests/test_plugin.py::test_xdist_gives_the_same_report_as_a_serial_run",
)


def _rank(item: pytest.Item) -> int:
    return next((i for i, prefix in enumerate(LONGEST) if item.nodeid.startswith(prefix)), len(LONGEST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the rest keep their order
