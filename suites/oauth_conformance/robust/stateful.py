"""A hypothesis state machine over a live target: clients are registered, authorizations
approved, codes redeemed, tokens refreshed, revoked and used, in random order and interleavings,
while a model records which credentials must never work again.

The model knows a credential as live, dead or unknown. Only the server's own answers move a
credential to live, and only the specs move one to dead (with the requirement that demands it):

- a code, once redeemed (ROBUST-STATE-CODE-ONCE);
- a refresh token, once revoked with a 200 (ROBUST-STATE-REVOKED);
- a rotated-out refresh token, at once, or once its successor has been used when the profile
  declares a grace period (ROBUST-STATE-RT-SUPERSEDED, ``[policy] refresh_grace``);
- an access token once revoked, and the access tokens of a live grant whose refresh token was
  revoked (ROBUST-STATE-REVOKED-ACCESS, a SHOULD).

Anything else a server may legitimately do on its own (revoking a grant whose code was replayed,
refusing a refresh) makes the affected credentials unknown: never asserted either way. Rules
replay dead credentials at random times; the invariants, checked after every step, fail on any
dead credential the server accepted, on a token response wider than its grant
(ROBUST-STATE-SCOPE), on an access token accepted by a resource it was not issued for
(ROBUST-STATE-AUDIENCE, when the run knows another protected resource), and on a revoked access
token that still reaches the resource.

Hypothesis is derandomized, so verdicts are stable; a failing program is shrunk, and the
shortest failing program's steps, with the requests each made (redacted), are the evidence.
After a violation the machine runs again with that invariant switched off, to look for the
others, while the time budget lasts.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import ClassVar

import httpx
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import Verbosity
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test

from oauth_conformance.evidence import Recorder
from oauth_conformance.evidence import record
from oauth_conformance.features import Feature
from oauth_conformance.support.checks import resource_refused
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import Authorization
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.target import Target
from oauth_conformance.verdicts import Outcome

CODE_ONCE = "ROBUST-STATE-CODE-ONCE"
REVOKED = "ROBUST-STATE-REVOKED"
REVOKED_ACCESS = "ROBUST-STATE-REVOKED-ACCESS"
SUPERSEDED = "ROBUST-STATE-RT-SUPERSEDED"
AUDIENCE = "ROBUST-STATE-AUDIENCE"
SCOPE = "ROBUST-STATE-SCOPE"
INVARIANTS = (CODE_ONCE, REVOKED, REVOKED_ACCESS, SUPERSEDED, AUDIENCE, SCOPE)

LIVE, DEAD, UNKNOWN, PENDING, SPENT = "live", "dead", "unknown", "pending", "spent"
_DEATHS = itertools.count(1)
WIDENING = "oauth-conformance-widened"
MAX_CLIENTS = 3


@dataclass(eq=False)
class Credential:
    kind: str  # code | refresh | access
    value: str
    grant: ModelGrant
    label: str
    state: str = LIVE
    dead_for: str | None = None  # the requirement that demands it stay dead
    why: str = ""
    died: int = 0  # when, in deaths so far (replays try the most recent first)

    def kill(self, requirement: str, why: str) -> None:
        if self.state != DEAD:
            self.state, self.dead_for, self.why = DEAD, requirement, why
            self.died = next(_DEATHS)

    def doubt(self) -> None:
        if self.state in (LIVE, PENDING):
            self.state = UNKNOWN


@dataclass(eq=False)
class ModelGrant:
    number: int
    client: Client
    authorization: Authorization
    code: Credential | None = None
    scope: frozenset[str] | None = None  # what the grant allows (None: the run cannot tell)
    refresh: list[Credential] = field(default_factory=list)  # oldest first; the last is the head
    access: list[Credential] = field(default_factory=list)

    @property
    def head(self) -> Credential | None:
        return self.refresh[-1] if self.refresh else None

    def doubt(self) -> None:
        for credential in (*self.refresh, *self.access):
            credential.doubt()
        if self.code is not None:
            self.code.doubt()


@dataclass
class Step:
    number: int
    call: str
    exchanges: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Violation:
    requirement: str
    message: str
    steps: list[Step]

    @property
    def program(self) -> str:
        return " -> ".join(step.call for step in self.steps)

    def evidence(self) -> list[dict[str, Any]]:
        """The replayable request sequence: every exchange, the first of each step naming the step."""
        items: list[dict[str, Any]] = []
        for step in self.steps:
            for index, exchange in enumerate(step.exchanges):
                item = dict(exchange)
                prefix = f"step {step.number}: {step.call}" if index == 0 else f"step {step.number} (continued)"
                item["note"] = f"{prefix}; {exchange['note']}" if exchange.get("note") else prefix
                item["step"] = step.number
                items.append(item)
        return items


class InvariantBroken(AssertionError):
    def __init__(self, requirement: str, message: str) -> None:
        super().__init__(f"{requirement}: {message}")
        self.requirement = requirement
        self.message = message


@dataclass
class MachineResult:
    violations: dict[str, Violation]
    exercised: dict[str, int]  # requirement -> how many times the run put it to the test
    skipped: dict[str, str]  # requirement -> why the run could not test it
    programs: int
    steps: int
    requests: int
    elapsed: float
    budget: float
    examples: int
    step_count: int
    out_of_time: bool
    stopped: str | None
    notes: list[str]
    # The profile settings that the run's not_tested steps named, most often named first: what
    # would let the machine get further (a consent driver that gets past a login page, say).
    unlocks: list[str] = field(default_factory=list)

    def unlock(self) -> str:
        """The setting that would let the machine exercise more."""
        if self.unlocks:
            return self.unlocks[0]
        if self.out_of_time:
            return "[robust] time_budget"
        return "[robust] stateful_examples and stateful_steps"

    def summary(self) -> str:
        cut = ", stopped by the time budget" if self.out_of_time else ""
        return (
            f"{self.programs} programs, {self.steps} steps, {self.requests} requests in {self.elapsed:.1f}s"
            f" (up to {self.examples} programs of {self.step_count} steps, budget {self.budget:.0f}s{cut})"
        )


class MachineRun:
    """What one state-machine run shares across its programs: the target, the budget, the findings."""

    def __init__(
        self,
        target: Target,
        oauth: OAuth,
        clients: Clients,
        http: httpx.Client,
        *,
        examples: int,
        steps: int,
        budget: float,
    ) -> None:
        self.target = target
        self.oauth = oauth
        self.clients = clients
        self.http = http
        self.examples = examples
        self.step_count = steps
        self.budget = budget
        self.grace = target.profile.policy.refresh_grace
        self.refresh = target.supports(Feature.REFRESH)
        self.revocation = target.endpoint("revocation_endpoint") is not None
        self.resource_url = target.profile.resource.url
        self.other_resource: str | None = None
        self.disabled: set[str] = set()
        self.violations: dict[str, Violation] = {}
        self.exercised: dict[str, int] = dict.fromkeys(INVARIANTS, 0)
        self.skipped: dict[str, str] = {}
        self.notes: list[str] = []
        self.unlocks: dict[str, int] = {}
        self.recorder = Recorder(keep=1)
        self.deadline = 0.0
        self.shrink_deadline: float | None = None
        self.out_of_time = False
        self.stopped: str | None = None
        self.programs = 0
        self.step_total = 0
        self.requests = 0
        self.current: Step | None = None

    # ------------------------------------------------------------------------ bookkeeping
    def active(self) -> bool:
        now = time.monotonic()
        if now >= self.deadline:
            self.out_of_time = True
            return False
        if self.shrink_deadline is not None and now >= self.shrink_deadline:
            return False  # shrinking has had its share: the shortest program so far stands
        return self.stopped is None

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        self.requests += 1
        self.recorder.add(response)
        if self.current is not None:
            self.current.exchanges.append(record(response).as_dict())

    def note_exchange(self, exchange: dict[str, Any]) -> None:
        if self.current is not None:
            self.current.exchanges.append(exchange)

    def violated(self, requirement: str, message: str, steps: list[Step]) -> None:
        if self.shrink_deadline is None:
            self.shrink_deadline = time.monotonic() + max(self.budget / 3, 5.0)
        scrubbed = [Step(s.number, s.call, [self._scrub(e) for e in s.exchanges]) for s in steps]
        known = self.violations.get(requirement)
        size = (len(scrubbed), sum(len(s.exchanges) for s in scrubbed))
        if known is None or size < (len(known.steps), sum(len(s.exchanges) for s in known.steps)):
            self.violations[requirement] = Violation(requirement, message, scrubbed)

    def _scrub(self, exchange: dict[str, Any]) -> dict[str, Any]:
        import orjson

        return orjson.loads(self.recorder.scrub(orjson.dumps(exchange).decode()))  # type: ignore[no-any-return]

    # -------------------------------------------------------------------------- the run
    def prepare(self) -> None:
        """Decide what can be tested before any program runs."""
        if not self.refresh:
            self.skipped[SUPERSEDED] = "the target does not advertise refresh tokens"
            self.skipped[SCOPE] = "the target does not advertise refresh tokens (scope can widen only on refresh)"
        if not self.revocation:
            self.skipped[REVOKED] = self.skipped[REVOKED_ACCESS] = "the target has no revocation endpoint"
        if self.resource_url is None:
            self.skipped[REVOKED_ACCESS] = "no protected resource is known ([resource] url)"
        self.other_resource = self._other_resource()
        self.disabled.update(self.skipped)

    def _other_resource(self) -> str | None:
        candidates: list[str] = []
        configured = self.target.profile.robust.other_resource
        if configured:
            candidates.append(configured)
        listed = self.target.metadata.get("protected_resources")
        own = self.oauth.resource
        if isinstance(listed, list):
            candidates += [r for r in listed if isinstance(r, str) and r != own and r.startswith("http")]
        if not candidates:
            self.skipped[AUDIENCE] = (
                "the run knows no second protected resource (metadata protected_resources lists one;"
                " set [robust] other_resource)"
            )
            return None
        for url in candidates:
            try:
                response = self.http.get(url)
            except httpx.HTTPError as exc:
                self.notes.append(f"other resource {url}: {type(exc).__name__}")
                continue
            if resource_refused(response):
                return url
            self.notes.append(f"other resource {url} answers HTTP {response.status_code} without a token")
        self.skipped[AUDIENCE] = "no second resource refuses requests without a token, so none can show a leak"
        return None


class OAuthMachine(RuleBasedStateMachine):
    """One program: a fresh model over the shared live target."""

    run: ClassVar[MachineRun]

    def __init__(self) -> None:
        super().__init__()
        self.clients: list[Client] = []
        self.grants: list[ModelGrant] = []
        self.steps: list[Step] = []
        self.breaches: list[tuple[str, str]] = []
        self.just_revoked: list[Credential] = []  # refresh tokens revoked in this step
        self.run.programs += 1

    # ------------------------------------------------------------------------------ plumbing
    def _begin(self, call: str) -> bool:
        if not self.run.active():
            return False
        step = Step(len(self.steps) + 1, call)
        self.steps.append(step)
        self.run.current = step
        self.run.step_total += 1
        return True

    def _breach(self, requirement: str, message: str) -> None:
        if requirement not in self.run.disabled:
            self.breaches.append((requirement, message))

    def _exercise(self, requirement: str) -> None:
        self.run.exercised[requirement] += 1

    def _guard(self, what: str, action: Any) -> Any:
        """Run one target interaction; a target that stops answering stops the run (never a verdict here)."""
        try:
            return action()
        except Outcome as exc:
            self.run.notes.append(f"{what}: {exc.reason}")
            if exc.unlock:
                self.run.unlocks[exc.unlock] = self.run.unlocks.get(exc.unlock, 0) + 1
            return None
        except httpx.HTTPError as exc:
            self.run.stopped = f"{what}: the target did not answer ({type(exc).__name__})"
            return None

    @staticmethod
    def _pick(items: list[Any], index: int) -> Any:
        return items[index % len(items)]

    def _grant_label(self, grant: ModelGrant) -> str:
        return f"grant {grant.number} (client {self.clients.index(grant.client) + 1})"

    # ---------------------------------------------------------------------------- the rules
    @initialize()
    def start(self) -> None:
        """Every program starts from two grants of two clients, the first refreshed where refresh
        works: replays of codes and rotated-out refresh tokens are possible from the first
        step, and a replay that makes the server revoke one grant leaves the other to explore."""
        for number in range(2):
            # The second client is confidential where the target registers one (some revoke only
            # for authenticated clients), public otherwise.
            if not (number == 1 and self._register("confidential")) and not self._register("public"):
                return
            self._authorize(number)
            if len(self.grants) == number + 1:
                self._redeem(0)
            # Refreshed once (twice with a declared grace period, which keeps the first rotated-out
            # token alive until its successor is used): a rotated-out token is dead from the start.
            for _ in range(2 if self.run.grace else 1):
                if number == 0 and self._refreshable():
                    self.refresh(0, "same")

    @precondition(lambda self: len(self.clients) < MAX_CLIENTS)
    @rule(kind=st.sampled_from(["public", "confidential"]))
    def register(self, kind: str) -> None:
        self._register(kind)

    def _register(self, kind: str) -> bool:
        if not self._begin(f"register a {kind} client"):
            return False
        clients = self.run.clients
        made = self._guard(f"registering a {kind} client", clients.public if kind == "public" else clients.confidential)
        if made is None:
            if not self.clients and kind == "public":
                self.run.stopped = self.run.stopped or "no public client could be had (see the notes)"
            return False
        self.clients.append(made)
        return True

    @precondition(lambda self: bool(self.clients))
    @rule(index=st.integers(0, MAX_CLIENTS - 1))
    def authorize(self, index: int) -> None:
        self._authorize(index)

    def _authorize(self, index: int) -> None:
        # Prefer a client without a live grant: authorizing one again may end its grants.
        busy = {g.client.client_id for g in self.grants if any(c.state == LIVE for c in (*g.refresh, *g.access))}
        client = self._pick([c for c in self.clients if c.client_id not in busy] or self.clients, index)
        if not self._begin(f"authorize (client {self.clients.index(client) + 1})"):
            return
        authorization = self._guard("authorizing", lambda: self.run.oauth.authorize(client))
        if authorization is None:
            return
        self.run.note_exchange(_authorization_exchange(authorization))
        if authorization.code is None:
            self.run.notes.append(f"an authorization returned {authorization.error or 'no code'}")
            return
        for earlier in self.grants:
            if earlier.client is client:
                # Servers may end a user's earlier grants to a client when it is authorized again
                # (the Cloudflare library's revokeExistingGrants): nothing is asserted about them.
                earlier.doubt()
        grant = ModelGrant(len(self.grants) + 1, client, authorization)
        grant.code = Credential("code", authorization.code, grant, f"the code of grant {grant.number}")
        self.grants.append(grant)

    def _unredeemed(self) -> list[ModelGrant]:
        return [g for g in self.grants if g.code is not None and g.code.state in (LIVE, UNKNOWN)]

    @precondition(lambda self: bool(self._unredeemed()))
    @rule(index=st.integers(0, 7))
    def redeem(self, index: int) -> None:
        self._redeem(index)

    def _redeem(self, index: int) -> None:
        pending = self._unredeemed()
        if not pending:
            return
        grant = self._pick(pending, index)
        assert grant.code is not None
        if not self._begin(f"redeem the code of {self._grant_label(grant)}"):
            return
        response = self._guard("redeeming", lambda: self.run.oauth.exchange(grant.authorization))
        if response is None:
            return
        tokens = _tokens(response) if response.status_code == 200 else None
        if tokens is None:
            if grant.code.state == LIVE:
                self.run.notes.append(f"a fresh code was refused with HTTP {response.status_code}")
            grant.code.state = SPENT  # never worked, so never asserted dead either
            return
        grant.code.kill(CODE_ONCE, f"redeemed at step {len(self.steps)}")
        requested = self.run.target.profile.request.scope
        issued = tokens.scope if tokens.scope is not None else requested
        grant.scope = frozenset(issued.split()) if issued is not None else None
        self._issued(grant, tokens, previous=None)

    def _issued(self, grant: ModelGrant, tokens: Tokens, previous: Credential | None) -> None:
        n = len(grant.access) + 1
        access = Credential("access", tokens.access_token, grant, f"access token {n} of grant {grant.number}")
        grant.access.append(access)
        if tokens.refresh_token and (previous is None or tokens.refresh_token != previous.value):
            label = f"refresh token {len(grant.refresh) + 1} of grant {grant.number}"
            grant.refresh.append(Credential("refresh", tokens.refresh_token, grant, label))
        self._check_audience(access)

    def _check_audience(self, access: Credential) -> None:
        other = self.run.other_resource
        if other is None or AUDIENCE in self.run.disabled:
            return
        oauth = self.run.oauth
        response = self._guard("calling the other resource", lambda: oauth.call_resource(access.value, url=other))
        if response is None:
            return
        self._exercise(AUDIENCE)
        if not resource_refused(response) and response.status_code < 500:
            self._breach(AUDIENCE, f"{access.label} was accepted by {other} (HTTP {response.status_code})")

    # The pickers offer credentials the server last accepted, and fall back on doubtful ones only
    # when there are none: a program then spends its steps where the model can still conclude.
    def _refreshable(self) -> list[ModelGrant]:
        if not self.run.refresh:
            return []
        live = [g for g in self.grants if g.head is not None and g.head.state == LIVE]
        return live or [g for g in self.grants if g.head is not None and g.head.state == UNKNOWN]

    @precondition(lambda self: bool(self._refreshable()))
    @rule(index=st.integers(0, 7), scope=st.sampled_from(["same", "narrower", "wider"]))
    def refresh(self, index: int, scope: str) -> None:
        grant = self._pick(self._refreshable(), index)
        head = grant.head
        assert head is not None
        asked = self._scope_to_ask(grant, scope)
        shown = f", scope={' '.join(sorted(asked))}" if asked is not None else ""
        if not self._begin(f"refresh {self._grant_label(grant)} with {head.label}{shown}"):
            return
        extra = {"scope": " ".join(sorted(asked))} if asked is not None else {}
        response = self._guard("refreshing", lambda: self.run.oauth.refresh(grant.client, head.value, **extra))
        if response is None:
            return
        tokens = _tokens(response) if response.status_code == 200 else None
        if tokens is None:
            if head.state == LIVE and response.status_code != 200 and scope != "wider":
                self.run.notes.append(f"a live refresh token was refused with HTTP {response.status_code}")
            if scope != "wider":
                head.doubt()
            return
        self._check_scope(grant, tokens, asked)
        before = list(grant.refresh)
        head.state = LIVE  # the server just accepted it
        self._issued(grant, tokens, previous=head)
        if grant.head is head:
            return  # not rotated
        step = len(self.steps)
        if self.run.grace:
            head.state = PENDING
            for older in before[:-1]:
                if older.state == PENDING:
                    older.kill(SUPERSEDED, f"its successor {head.label} was used at step {step}")
        else:
            head.kill(SUPERSEDED, f"superseded at step {step} (no grace period declared)")

    def _scope_to_ask(self, grant: ModelGrant, mode: str) -> frozenset[str] | None:
        if mode == "same" or grant.scope is None:
            return None
        if mode == "narrower":
            return frozenset(sorted(grant.scope)[:1]) if len(grant.scope) > 1 else None
        supported = self.run.target.metadata.get("scopes_supported")
        listed = supported if isinstance(supported, list) else []
        extra = [s for s in listed if isinstance(s, str) and s not in grant.scope]
        return grant.scope | {extra[0] if extra else WIDENING}

    def _check_scope(self, grant: ModelGrant, tokens: Tokens, asked: frozenset[str] | None) -> None:
        if grant.scope is None or SCOPE in self.run.disabled:
            return
        self._exercise(SCOPE)
        if tokens.scope is not None:
            issued, how = frozenset(tokens.scope.split()), "the response's scope"
        elif asked is not None:
            issued, how = asked, "the scope asked for (the response has none, RFC 6749 section 5.1)"
        else:
            return
        wider = issued - grant.scope
        if wider:
            self._breach(
                SCOPE,
                f"a refresh of grant {grant.number} issued {' '.join(sorted(wider))} beyond its scope"
                f" {' '.join(sorted(grant.scope)) or '(empty)'} (judged by {how})",
            )

    def _revocable(self) -> list[ModelGrant]:
        if not self.run.revocation:
            return []
        live = [g for g in self.grants if any(c.state == LIVE for c in (*g.refresh, *g.access))]
        return live or [g for g in self.grants if any(c.state == UNKNOWN for c in (*g.refresh, *g.access))]

    @precondition(lambda self: bool(self._revocable()))
    @rule(index=st.integers(0, 7), which=st.sampled_from(["refresh_token", "access_token"]))
    def revoke(self, index: int, which: str) -> None:
        grant = self._pick(self._revocable(), index)
        kind = grant.refresh if which == "refresh_token" else grant.access
        live = [c for c in kind if c.state == LIVE] or [c for c in kind if c.state == UNKNOWN]
        if not live:
            return
        token = live[-1]
        if not self._begin(f"revoke {token.label}"):
            return
        response = self._guard("revoking", lambda: self.run.oauth.revoke(grant.client, token.value, which))
        if response is not None and response.status_code != 200:
            self.run.notes.append(f"a revocation ({token.kind} token) was answered HTTP {response.status_code}")
        if response is None or response.status_code != 200:
            return
        step = len(self.steps)
        was_live = token.state == LIVE
        if token.kind == "refresh":
            token.kill(REVOKED, f"revoked at step {step}")
            self.just_revoked.append(token)
            for other in grant.refresh:
                other.doubt()  # RFC 7009 section 2.1: related refresh tokens may go too, or not
            if was_live:
                for access in grant.access:  # RFC7009-2.1-CASCADE
                    access.kill(REVOKED_ACCESS, f"its grant's refresh token was revoked at step {step}")
        else:
            token.kill(REVOKED_ACCESS, f"revoked at step {step}")

    def _refresh_with(self, token: Credential) -> httpx.Response:
        return self.run.oauth.refresh(token.grant.client, token.value)

    def _dead(self, *kinds: str) -> list[Credential]:
        """Dead credentials of these kinds, the most recently killed first."""
        found = [
            c
            for g in self.grants
            for c in ((g.code,) if g.code else ()) + tuple(g.refresh) + tuple(g.access)
            if c.state == DEAD and c.kind in kinds and c.dead_for is not None and c.dead_for not in self.run.disabled
        ]
        return sorted(found, key=lambda c: -c.died)

    @precondition(lambda self: bool(self._dead("code")))
    @rule(index=st.integers(0, 7))
    def replay_code(self, index: int) -> None:
        """Present again a code the model knows is redeemed."""
        self._replay(self._pick(self._dead("code"), index))

    @precondition(lambda self: bool(self._dead("refresh")))
    @rule(index=st.integers(0, 7))
    def replay_refresh_token(self, index: int) -> None:
        """Present a refresh token the model knows is revoked or superseded."""
        self._replay(self._pick(self._dead("refresh"), index))

    def _replay(self, credential: Credential) -> None:
        if not self._begin(f"replay {credential.label} ({credential.why})"):
            return
        grant, oauth = credential.grant, self.run.oauth
        if credential.kind == "code":
            response = self._guard("replaying a code", lambda: oauth.exchange(grant.authorization))
        else:
            response = self._guard("replaying a refresh token", lambda: oauth.refresh(grant.client, credential.value))
        if response is None:
            return
        assert credential.dead_for is not None
        self._exercise(credential.dead_for)
        if response.status_code == 200 and _tokens(response) is not None:
            self._breach(credential.dead_for, f"{credential.label} worked again ({credential.why})")
        # A server may revoke the whole grant when it sees a replay (OAUTH21-4.1.3, 4.3.1): allowed.
        grant.doubt()

    def _usable_access(self) -> list[Credential]:
        if self.run.resource_url is None:
            return []
        live = [c for g in self.grants for c in g.access if c.state == LIVE]
        return live or [c for g in self.grants for c in g.access if c.state == UNKNOWN]

    @precondition(lambda self: bool(self._usable_access()))
    @rule(index=st.integers(0, 7))
    def call_api(self, index: int) -> None:
        token = self._pick(self._usable_access(), index)
        if not self._begin(f"call the resource with {token.label}"):
            return
        response = self._guard("calling the resource", lambda: self.run.oauth.call_resource(token.value))
        if response is None:
            return
        if resource_refused(response):
            token.doubt()
        elif response.status_code < 500:
            token.state = LIVE

    # ------------------------------------------------------------------------- the invariant
    @invariant()
    def model_holds(self) -> None:
        """After every step: a refresh token revoked in it is refused at once (RFC 7009 section 2.1:
        revocation takes effect immediately), revoked access tokens are refused again, and no step
        saw a dead credential work, a scope widen or a token reach another resource. Codes and
        rotated-out refresh tokens are replayed by rules instead, at random later times: replaying
        them lets a server revoke the grant, which would end every program's exploration here."""
        revoked, self.just_revoked = self.just_revoked, []
        for token in revoked if REVOKED not in self.run.disabled and self.run.active() else []:
            response = self._guard("using a revoked refresh token", lambda t=token: self._refresh_with(t))
            if response is None:
                break
            self._exercise(REVOKED)
            if response.status_code == 200 and _tokens(response) is not None:
                self._breach(REVOKED, f"{token.label} worked right after its revocation ({token.why})")
        if self.run.resource_url is not None and REVOKED_ACCESS not in self.run.disabled and self.run.active():
            for token in self._dead("access"):
                response = self._guard("calling the resource", lambda t=token: self.run.oauth.call_resource(t.value))
                if response is None:
                    break
                self._exercise(REVOKED_ACCESS)
                if not resource_refused(response) and response.status_code < 500:
                    self._breach(REVOKED_ACCESS, f"{token.label} still reaches the resource ({token.why})")
        if self.breaches:
            requirement, message = self.breaches[0]
            self.run.violated(requirement, message, self.steps)
            raise InvariantBroken(requirement, message)


def _tokens(response: httpx.Response) -> Tokens | None:
    try:
        return Tokens.from_response(response)
    except (ValueError, KeyError, TypeError):
        return None


def _authorization_exchange(authorization: Authorization) -> dict[str, Any]:
    """The front-channel step as one exchange: the request URL and where the user agent came back."""
    from oauth_conformance.evidence import redact_url

    callback = authorization.callback
    return {
        "request": {"method": "GET", "url": redact_url(authorization.url), "headers": {}, "body": ""},
        "response": {
            "status": callback.status if callback else None,
            "headers": {"location": redact_url(callback.location)} if callback else {},
            "body": "",
        },
        "note": "the authorization request, through the consent driver (its pages are not shown)",
    }


def run_machine(
    target: Target,
    oauth: OAuth,
    clients: Clients,
    http: httpx.Client,
    *,
    examples: int | None = None,
    steps: int | None = None,
    budget: float | None = None,
) -> MachineResult:
    """Run the state machine within the profile's ``[robust]`` bounds (or the ones given)."""
    robust = target.profile.robust
    run = MachineRun(
        target,
        oauth,
        clients,
        http,
        examples=robust.stateful_examples if examples is None else examples,
        steps=robust.stateful_steps if steps is None else steps,
        budget=robust.time_budget if budget is None else budget,
    )
    started = time.monotonic()
    run.deadline = started + run.budget
    hooks = http.event_hooks
    previous_timeout = http.timeout
    hooks["response"] = [*hooks.get("response", []), run.on_response]
    http.timeout = httpx.Timeout(robust.request_timeout)
    try:
        run.prepare()
        while run.active() and set(INVARIANTS) - run.disabled:
            found = set(run.violations)
            machine = type("OAuthStateMachine", (OAuthMachine,), {"run": run})
            try:
                run_state_machine_as_test(
                    machine,
                    settings=settings(
                        max_examples=run.examples,
                        stateful_step_count=max(run.step_count, 1),
                        derandomize=True,
                        database=None,
                        deadline=None,
                        phases=(Phase.generate, Phase.shrink),
                        suppress_health_check=list(HealthCheck),
                        report_multiple_bugs=False,
                        print_blob=False,
                        verbosity=Verbosity.quiet,
                    ),
                )
            except Exception:
                if set(run.violations) == found:
                    raise  # not an invariant: a defect of the harness, or the target broke the run
            new = set(run.violations) - found
            if not new:
                break
            run.disabled.update(new)
            run.shrink_deadline = None
    finally:
        hooks["response"] = [h for h in hooks["response"] if h is not run.on_response]
        http.timeout = previous_timeout
        run.current = None
    return MachineResult(
        violations=run.violations,
        exercised=run.exercised,
        skipped=run.skipped,
        programs=run.programs,
        steps=run.step_total,
        requests=run.requests,
        elapsed=time.monotonic() - started,
        budget=run.budget,
        examples=run.examples,
        step_count=run.step_count,
        out_of_time=run.out_of_time,
        stopped=run.stopped,
        notes=list(dict.fromkeys(run.notes)),
        unlocks=sorted(run.unlocks, key=lambda u: -run.unlocks[u]),
    )
