"""How a run with workers (``-n``) hands its tests out: one test at a time, except the tests that
share a run-wide session, which go to one worker together, first.

pytest-xdist's default (``--dist load``) deals tests out in slices regardless of their fixtures.
The fuzzing and state-machine tests each judge one session that the first of them runs and keeps
in the process (``specs/robust/test_fuzz.py``, ``test_state_machine.py``): split over two workers,
both workers ran both sessions, the run's longest setups twice. Here each of those modules is one
unit of work, handed out before everything else so that nothing waits for it at the end; every
other test is a unit of its own, so the workers stay evenly busy to the last test.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

# Modules whose tests share one session per process (a fixture keeping it in ``config.stash``).
SHARED_SESSION_MODULES = ("specs/robust/test_fuzz.py", "specs/robust/test_state_machine.py")


def unit_of(nodeid: str) -> str:
    """The unit of work ``nodeid`` belongs to: its module for a shared-session module, else itself."""
    module = nodeid.split("::", 1)[0]
    return module if module.endswith(SHARED_SESSION_MODULES) else nodeid


class SessionScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """xdist's scope scheduling with :func:`unit_of` as the scope; larger units go first (xdist
    orders scopes by size unless ``--no-loadscope-reorder``)."""

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)
