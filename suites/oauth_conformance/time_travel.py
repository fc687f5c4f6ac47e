"""Moving the target's time, so expiry is tested without waiting when the target allows.

- ``header``: the reference's ``--test-mode`` reads a per-request clock offset from a header,
  so one test's time travel never disturbs another running at the same time;
- ``hook``: ``POST {hook} {"advance": seconds}`` moves the target's clock for everyone (run the
  expiry tests serially);
- ``freeze``: an in-process target under freezegun;
- ``wait``: really wait, only while the profile's wait budget lasts.
Without any of them, expiry tests are ``not_tested``.
"""

from __future__ import annotations

import threading
import time

import httpx

from oauth_conformance.profile import Profile
from oauth_conformance.verdicts import NotTested

OFFSET_HEADER = "X-Test-Clock-Offset"
_budget_lock = threading.Lock()
_budget_used = 0.0


class TargetClock:
    mode = "none"

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        raise NotTested(
            "expiry cannot be tested: the profile gives no way to move or wait out the target's clock",
            unlock="[clock] mode",
        )


class HeaderClock(TargetClock):
    """Per-test virtual time: the test's HTTP client sends the accumulated offset with each request."""

    mode = "header"

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def apply(self, request: httpx.Request) -> None:
        if self.offset:
            request.headers[OFFSET_HEADER] = str(self.offset)


class HookClock(TargetClock):
    mode = "hook"

    def __init__(self, hook: str, http: httpx.Client) -> None:
        super().__init__()
        self.hook = hook
        self.http = http

    def advance(self, seconds: float) -> None:
        response = self.http.post(self.hook, json={"advance": seconds})
        if response.status_code != 200:
            raise NotTested(f"the clock hook answered HTTP {response.status_code}", unlock="[clock] hook")
        self.offset += seconds


class WaitClock(TargetClock):
    mode = "wait"

    def __init__(self, budget: float) -> None:
        super().__init__()
        self.budget = budget

    def advance(self, seconds: float) -> None:
        global _budget_used
        with _budget_lock:
            if _budget_used + seconds > self.budget:
                raise NotTested(
                    f"waiting {seconds:.0f}s would exceed the profile's wait budget ({self.budget:.0f}s)",
                    unlock="[clock] wait_budget",
                )
            _budget_used += seconds
        time.sleep(seconds + 1.0)
        self.offset += seconds


class FreezeClock(TargetClock):
    """For in-process targets: freezegun moves the whole process's time."""

    mode = "freeze"

    def __init__(self) -> None:
        super().__init__()
        from freezegun import freeze_time

        self._frozen = freeze_time(tick=True, real_asyncio=True)
        self._factory = self._frozen.start()

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._factory.tick(timedelta(seconds=seconds))
        self.offset += seconds

    def stop(self) -> None:
        self._frozen.stop()


CLOCK_NOTES = {
    "header": "expiry tests move the target's clock per request (test-mode header)",
    "hook": "expiry tests move the target's clock through the profile's hook",
    "freeze": "expiry tests move the in-process target's clock (freezegun)",
    "wait": "expiry tests wait for lifetimes within the profile's wait budget",
    "none": "no clock control: expiry tests are not_tested",
}


def effective_mode(profile: Profile, *, in_process: bool = False) -> str:
    """The clock mode a run can use: the profile's, if what it needs is there, else ``none``."""
    mode = profile.clock.mode
    if (
        mode == "header"
        or (mode == "hook" and profile.clock.hook)
        or (mode == "wait" and profile.clock.wait_budget > 0)
        or (mode == "freeze" and in_process)
    ):
        return mode
    return "none"


def make_clock(profile: Profile, http: httpx.Client, *, in_process: bool = False) -> TargetClock:
    mode = effective_mode(profile, in_process=in_process)
    if mode == "header":
        return HeaderClock()
    if mode == "hook" and profile.clock.hook:  # effective_mode checked it; the test narrows the type
        return HookClock(profile.clock.hook, http)
    if mode == "wait":
        return WaitClock(profile.clock.wait_budget)
    if mode == "freeze":
        return FreezeClock()
    return TargetClock()
