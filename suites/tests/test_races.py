"""What a race test's pass rests on is said in its notes: rounds, racers, and how closely they overlapped."""

from __future__ import annotations

import httpx

from oauth_conformance.evidence import Recorder
from oauth_conformance.support.races import Racer
from oauth_conformance.support.races import RaceRounds
from oauth_conformance.support.races import Round


def racer(index: int, released: float | None, answered: float | None) -> Racer:
    return Racer(index, False, httpx.Request("POST", "https://as.example/token"), released=released, answered=answered)


def test_a_race_without_a_violation_notes_how_close_its_racers_came() -> None:
    rounds = RaceRounds(
        rounds=[
            Round(0, False, [racer(0, 10.0, 10.020), racer(1, 10.0004, 10.030)]),
            Round(1, True, [racer(0, 20.0, 20.010), racer(1, 20.0012, None)]),  # one racer got no answer
        ]
    )
    recorder = Recorder()
    rounds.show(recorder)
    assert recorder.notes == [
        "no violation in 2 round(s) of 2 racers; each round's racers were released within 1200 µs,"
        " and its answers read 10.0 to 30.0 ms after its first release"
    ]


def test_a_violation_is_flagged_and_no_pass_is_noted() -> None:
    rounds = RaceRounds(rounds=[Round(0, False, [racer(0, 1.0, 1.01)])], violation="two tokens", variant="twice")
    recorder = Recorder()
    rounds.show(recorder)
    assert recorder.notes == []
