"""Races: simultaneous requests released together, for the checks that something happens once.

A server loses a race only when its requests really overlap. Requests sent from a thread pool,
each over a connection it opens itself, reach the server spread over milliseconds (connection
set-up, the client's own scheduling), longer than most read-then-write windows. So here every
racer's connection is opened first, every request is sent whole but for its last byte, and then
the last bytes go out back to back: the server can act on none of them until all of them have
arrived. A round uses fresh connections (just opened) or warm ones (that have already served a
request; some servers schedule a kept-alive connection differently). In-process targets have no
sockets: their racers start together behind a thread barrier.

:func:`release_together` runs one round; :func:`race_rounds` runs rounds, alternating fresh and
warm, until one shows a violation or the rounds or the time budget run out.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import h11
import httpx
import orjson

from oauth_conformance.evidence import Recorder
from oauth_conformance.evidence import record
from oauth_conformance.http import tls_context
from oauth_conformance.support import raw_http
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed

# Headers an httpx request carries that a racing request leaves out: compression would need
# decoding, and the connection is closed after its one racing request anyway.
_DROPPED = frozenset({b"accept-encoding", b"connection", b"keep-alive"})


@dataclass
class Racer:
    """One racing request and what it got: a response, or ``failure`` (``timeout``, ``dropped ...``)."""

    index: int
    warm: bool
    request: httpx.Request
    response: httpx.Response | None = None
    failure: str | None = None
    released: float | None = None  # time.monotonic() when its last byte went out (or the barrier let it go)
    answered: float | None = None  # when its answer was read whole (racers are read in turn: an upper bound)

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    def body(self) -> dict[str, Any]:
        """The response's JSON object ({} when there is none)."""
        if self.response is None:
            return {}
        try:
            data = orjson.loads(self.response.content)
        except orjson.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}

    def describe(self) -> str:
        if self.response is None:
            return f"racer {self.index + 1}: {self.failure}"
        error = self.body().get("error")
        return f"racer {self.index + 1}: HTTP {self.status}" + (f" {error}" if error else "")

    def evidence(self, note: str) -> dict[str, Any]:
        connection = "a warm connection" if self.warm else "a fresh connection"
        if self.response is not None:
            return record(self.response, f"{note}; racer {self.index + 1}, over {connection}").as_dict()
        return {
            "request": {"method": self.request.method, "url": str(self.request.url)},
            "response": {"status": None},
            "note": f"{note}; racer {self.index + 1}, over {connection}: {self.failure}",
        }


def release_together(
    requests: Sequence[httpx.Request],
    *,
    warm: bool,
    timeout: float,
    http: httpx.Client | None = None,
    in_process: bool = False,
) -> list[Racer]:
    """Send ``requests`` so that the server receives their last bytes together; return each answer.

    ``warm`` first sends a GET of the request's own origin root over each connection, and races
    over the kept-alive connection (a connection the server closes after the warm-up is replaced
    by a fresh one, and the racer says so). ``in_process`` targets go through ``http`` behind a
    barrier instead. No answer within ``timeout`` seconds of the release is a ``timeout``.
    """
    if in_process:
        if http is None:
            raise ValueError("an in-process race needs the test's HTTP client")
        return _behind_a_barrier(http, requests, timeout)
    if http is not None:
        for request in requests:  # the client's request hooks (a clock header) apply to racers too
            for hook in http.event_hooks.get("request", []):
                hook(request)
    racers = [Racer(i, warm, request) for i, request in enumerate(requests)]
    lines: list[_Line | None] = []
    try:
        for racer in racers:
            try:
                lines.append(_ready(racer, timeout))
            except (OSError, h11.ProtocolError) as exc:
                racer.failure = f"dropped before the release ({type(exc).__name__})"
                lines.append(None)
        # The release: one byte per connection, back to back.
        for racer, line in zip(racers, lines, strict=True):
            if line is not None:
                try:
                    line.send_last()
                    racer.released = time.monotonic()
                except OSError as exc:
                    racer.failure = f"dropped at the release ({type(exc).__name__})"
        deadline = time.monotonic() + timeout
        for racer, line in zip(racers, lines, strict=True):
            if line is not None and racer.failure is None:
                try:
                    racer.response = line.read_response(racer.request, deadline)
                    racer.answered = time.monotonic()
                except TimeoutError:
                    racer.failure = f"timeout (no answer within {timeout:.0f}s)"
                except (OSError, h11.ProtocolError) as exc:
                    racer.failure = f"dropped without an answer ({type(exc).__name__})"
    finally:
        for line in lines:
            if line is not None:
                line.close()
    return racers


def _ready(racer: Racer, timeout: float) -> _Line:
    """A connection (warmed up if the racer asks) with the racer's request sent but its last byte."""
    line = _Line.open(racer.request.url, timeout)
    try:
        if racer.warm:
            racer.warm = line.warm_up(timeout)
            if not racer.warm:  # the server closed it after the warm-up: race over a fresh one
                line.close()
                line = _Line.open(racer.request.url, timeout)
        line.send_all_but_last(racer.request)
    except BaseException:
        line.close()
        raise
    return line


def _behind_a_barrier(http: httpx.Client, requests: Sequence[httpx.Request], timeout: float) -> list[Racer]:
    racers = [Racer(i, False, request) for i, request in enumerate(requests)]
    barrier = threading.Barrier(len(racers))

    def run(racer: Racer) -> None:
        try:
            barrier.wait(timeout)
            racer.released = time.monotonic()
            racer.response = http.send(racer.request)
            racer.response.read()
            racer.answered = time.monotonic()
        except threading.BrokenBarrierError:
            racer.failure = "never released (the barrier broke)"
        except httpx.TimeoutException:
            racer.failure = f"timeout (no answer within {timeout:.0f}s)"
        except httpx.TransportError as exc:
            racer.failure = f"dropped without an answer ({type(exc).__name__})"

    threads = [threading.Thread(target=run, args=(racer,), name=f"racer-{racer.index}") for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout * 2)
    return racers


class _Line:
    """One HTTP/1.1 connection to the target, driven byte by byte."""

    def __init__(self, sock: socket.socket, host: str) -> None:
        self.sock = sock
        self.host = host
        self.conn = raw_http.client()
        self.last = b""

    @classmethod
    def open(cls, url: httpx.URL, timeout: float) -> _Line:
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        sock = socket.create_connection((host, port), timeout=timeout)
        # Without Nagle, the request's head goes out now and the last byte alone at the release.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if url.scheme == "https":
            sock = tls_context().wrap_socket(sock, server_hostname=host)
        netloc = url.netloc.decode("ascii")
        return cls(sock, netloc)

    def warm_up(self, timeout: float) -> bool:
        """One GET / over the connection; True if the server keeps the connection open after it."""
        head = h11.Request(method="GET", target="/", headers=[("Host", self.host), ("User-Agent", _agent())])
        self.sock.sendall(self.conn.send(head) + self.conn.send(h11.EndOfMessage()))
        deadline = time.monotonic() + timeout
        while True:
            event = raw_http.next_event(self.sock, self.conn, deadline)
            if isinstance(event, h11.EndOfMessage):
                break
            if isinstance(event, h11.ConnectionClosed):
                return False
        if self.conn.our_state is not h11.DONE or self.conn.their_state is not h11.DONE:
            return False
        self.conn.start_next_cycle()
        return True

    def send_all_but_last(self, request: httpx.Request) -> None:
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in _DROPPED]
        headers.append((b"Connection", b"close"))
        body = request.read()
        data = self.conn.send(h11.Request(method=request.method, target=request.url.raw_path, headers=headers))
        if body:
            data += self.conn.send(h11.Data(data=body))
        data += self.conn.send(h11.EndOfMessage())
        self.sock.sendall(data[:-1])
        self.last = data[-1:]

    def send_last(self) -> None:
        self.sock.sendall(self.last)

    def read_response(self, request: httpx.Request, deadline: float) -> httpx.Response:
        return raw_http.read_response(self.sock, self.conn, request, deadline)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _agent() -> str:
    from oauth_conformance.http import USER_AGENT

    return USER_AGENT


# ------------------------------------------------------------------------------------- rounds
@dataclass
class Round:
    """One round: its racers, and the setting-up that made them (a code, a refresh token)."""

    number: int
    warm: bool
    racers: list[Racer]
    context: Any = None

    def release_spread(self) -> float | None:
        """Seconds between the first racer's release and the last one's (None: fewer than two)."""
        times = [r.released for r in self.racers if r.released is not None]
        return max(times) - min(times) if len(times) > 1 else None

    def answer_span(self) -> tuple[float, float] | None:
        """Seconds from the first release to the first and to the last answer read."""
        released = [r.released for r in self.racers if r.released is not None]
        answered = [r.answered for r in self.racers if r.answered is not None]
        if not released or not answered:
            return None
        return min(answered) - min(released), max(answered) - min(released)


@dataclass
class RaceRounds:
    """Every round run, and the first violation found (None: none found)."""

    rounds: list[Round] = field(default_factory=list)
    violation: str | None = None
    variant: str = ""  # what kind of violation: the finding's variant (stable across runs and counts)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def show(self, recorder: Recorder) -> None:
        """Put the violation's racers in the test's evidence and flag it as a finding."""
        for exchange in self.evidence:
            recorder.attach(exchange)
        if self.violation is not None:
            recorder.flag(self.variant, self.violation, self.evidence)
        elif self.rounds:
            recorder.notes.append(self.how_close())

    def how_close(self) -> str:
        """What a pass rests on: no violation in so many rounds, and how closely the racers overlapped
        (a busy machine can spread them so that no race is provoked; a pass is no proof)."""
        racers = max(len(r.racers) for r in self.rounds)
        spreads = [s for r in self.rounds if (s := r.release_spread()) is not None]
        spans = [span for r in self.rounds if (span := r.answer_span()) is not None]
        said = f"no violation in {len(self.rounds)} round(s) of {racers} racers"
        if spreads:
            said += f"; each round's racers were released within {max(spreads) * 1e6:.0f} µs"
        if spans:
            said += (
                f", and its answers read {min(first for first, _ in spans) * 1e3:.1f} to"
                f" {max(last for _, last in spans) * 1e3:.1f} ms after its first release"
            )
        return said


@dataclass(frozen=True)
class RaceViolation:
    variant: str  # a slug naming the kind (several-redemptions-succeeded, ...)
    message: str
    shown: list[Racer]


# A round's check: given the round, return a violation (with the racers that show it) or None.
Check = Callable[[Round], RaceViolation | None]


def race_rounds(
    prepare: Callable[[int], tuple[list[httpx.Request], Any]],
    check: Check,
    *,
    rounds: int,
    budget: float,
    timeout: float,
    http: httpx.Client | None = None,
    in_process: bool = False,
    recorder: Recorder | None = None,
    what: str = "race",
) -> RaceRounds:
    """Run up to ``rounds`` rounds, fresh and warm in turn, stopping at the first violation or once
    ``budget`` seconds have passed (the first round always runs). ``prepare(n)`` makes round n's
    requests and the context ``check`` reads."""
    result = RaceRounds()
    started = time.monotonic()
    for number in range(rounds):
        if number and time.monotonic() - started > budget:
            break
        requests, context = prepare(number)
        warm = number % 2 == 1
        racers = release_together(requests, warm=warm, timeout=timeout, http=http, in_process=in_process)
        this = Round(number, warm, racers, context)
        result.rounds.append(this)
        if recorder is not None:
            for racer in racers:
                if racer.response is not None:
                    recorder.add(racer.response, f"{what}, round {number + 1}, racer {racer.index + 1}")
        found = check(this)
        if found is not None:
            kind = "warm" if warm else "fresh"
            result.violation = (
                f"round {number + 1} of {rounds} ({len(racers)} racers, {kind} connections): {found.message}"
            )
            result.variant = found.variant
            result.evidence = [r.evidence(f"{what}, round {number + 1}") for r in found.shown]
            break
    return result


def server_errors(racers: Sequence[Racer]) -> list[Racer]:
    """The racers that got a 5xx or no answer at all (a loser of a race is owed a 4xx)."""
    return [r for r in racers if r.response is None or (r.status is not None and r.status >= 500)]


# ------------------------------------------------------------------------ what the suites race
ROUNDS = 4  # rounds per race test: fresh, warm, fresh, warm
BUDGET = 6.0  # seconds after which no new round starts


def won(racer: Racer) -> bool:
    """The racer got tokens."""
    return racer.status == 200 and "access_token" in racer.body()


def _outcomes(racers: Sequence[Racer]) -> str:
    shown: dict[str, int] = {}
    for racer in racers:
        key = racer.describe().split(": ", 1)[1]
        shown[key] = shown.get(key, 0) + 1
    return ", ".join(f"{n} x {key}" for key, n in sorted(shown.items()))


def require_a_winner(this: Round, what: str) -> list[Racer]:
    """The round's winners; none at all means the request itself fails, which other tests report."""
    winners = [r for r in this.racers if won(r)]
    if not winners:
        raise PrerequisiteFailed(f"none of {len(this.racers)} {what} got tokens ({_outcomes(this.racers)})")
    return winners


def losers_answered_4xx(this: Round, what: str) -> RaceViolation | None:
    """A violation when a loser of the round got a 5xx or no answer (it is owed a 4xx)."""
    broken = server_errors(this.racers)
    if not broken:
        return None
    return RaceViolation(
        "a-loser-got-a-5xx-or-no-answer",
        f"{len(broken)} of {len(this.racers)} {what} got a 5xx or no answer instead of a 4xx"
        f" ({_outcomes(this.racers)})",
        broken,
    )


def race_settings(target: Target) -> dict[str, Any]:
    """The keyword arguments :func:`race_rounds` takes from the target and its profile."""
    return {
        "rounds": ROUNDS,
        "budget": BUDGET,
        "timeout": target.profile.robust.request_timeout,
        "in_process": target.in_process,
    }


def racer_count(target: Target) -> int:
    """How many requests race in one round: ``[policy] concurrency``, at least two."""
    return max(2, target.profile.policy.concurrency)


# ------------------------------------------------------------------------------ the two races
def code_race(oauth: OAuth, client: Client, *, losers_4xx: bool, recorder: Recorder) -> RaceRounds:
    """Rounds of simultaneous redemptions of one code: a violation when more than one gets tokens
    (OAUTH21-4.1.3-CODE-ONCE) or, with ``losers_4xx``, when a loser gets a 5xx or no answer."""
    target = oauth.target
    count = racer_count(target)
    what = "simultaneous redemptions of one code"

    def prepare(_: int) -> tuple[list[httpx.Request], Any]:
        authorization = oauth.code(client)
        return [oauth.build_exchange(authorization) for _ in range(count)], authorization

    def check(this: Round) -> RaceViolation | None:
        winners = require_a_winner(this, what)
        if len(winners) > 1:
            return RaceViolation(
                "several-redemptions-succeeded", f"{len(winners)} of {count} {what} got tokens", winners
            )
        return losers_answered_4xx(this, what) if losers_4xx else None

    return race_rounds(prepare, check, http=oauth.http, recorder=recorder, what=what, **race_settings(target))


def refresh_race(oauth: OAuth, client: Client, *, losers_4xx: bool, recorder: Recorder) -> RaceRounds:
    """Rounds of simultaneous refreshes with one refresh token: a violation when more than one gets
    tokens (unless ``[policy] refresh_grace`` declares the presented token still usable), when more
    than one of the refresh tokens they return still works afterwards (two live successors: the
    presented token was not invalidated, OAuth 2.1 section 4.3.1), or, with ``losers_4xx``, when a
    loser gets a 5xx or no answer."""
    target = oauth.target
    count = racer_count(target)
    grace = target.profile.policy.refresh_grace
    what = "simultaneous refreshes with one refresh token"

    def prepare(_: int) -> tuple[list[httpx.Request], Any]:
        tokens = oauth.refreshable(client)
        assert tokens.refresh_token is not None
        return [oauth.build_refresh(client, tokens.refresh_token) for _ in range(count)], tokens

    def check(this: Round) -> RaceViolation | None:
        winners = require_a_winner(this, what)
        if len(winners) > 1 and not grace:
            message = f"{len(winners)} of {count} {what} got tokens (no grace period is declared)"
            return RaceViolation("several-refreshes-succeeded", message, winners)
        # Each successor is tried once: a live one yields tokens. Trying one may end another (reuse
        # detection); what must never happen is two of them working.
        live = []
        for racer in winners:
            successor = racer.body().get("refresh_token")
            if isinstance(successor, str) and successor:
                answer = oauth.refresh(client, successor)
                if answer.status_code == 200 and "access_token" in _json(answer):
                    live.append(racer)
        if len(live) > 1:
            return RaceViolation(
                "several-live-successors",
                f"{len(live)} of the {len(winners)} refresh tokens issued by {what} all worked afterwards:"
                " the presented token yielded more than one live successor",
                live,
            )
        return losers_answered_4xx(this, what) if losers_4xx else None

    return race_rounds(prepare, check, http=oauth.http, recorder=recorder, what=what, **race_settings(target))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
