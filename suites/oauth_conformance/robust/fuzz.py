"""Fuzzing a target's OAuth endpoints with schemathesis, judged by :mod:`.oracles`.

The run has two parts, both deterministic:

1. explicit probes: for every advertised grant a complete request and the same request without
   each of its required parameters, non-object registration bodies, markup and foreign redirect
   URIs at the authorization endpoint, and a client registered under a markup name whose
   consent page is then requested (stored reflection);
2. generated requests: schemathesis draws cases from the derived OpenAPI description
   (:mod:`.openapi`), positive and negative, ``max_examples`` per operation and mode, with
   hypothesis derandomized, each operation and mode getting an equal share of what is left of
   the time budget.

Every request is sent by the harness's own HTTP client (so in-process targets work too) with a
bounded wait; an unanswered request is a hang, a dropped connection counts as a server error.
Findings keep the first few exchanges of each (requirement, endpoint) pair, redacted through
:mod:`oauth_conformance.evidence`.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from oauth_conformance import findings
from oauth_conformance.evidence import Exchange
from oauth_conformance.evidence import Recorder
from oauth_conformance.evidence import record
from oauth_conformance.evidence import redact_body
from oauth_conformance.evidence import redact_header
from oauth_conformance.evidence import redact_url
from oauth_conformance.robust import openapi
from oauth_conformance.robust.openapi import Endpoint
from oauth_conformance.robust.openapi import Seeds
from oauth_conformance.robust.oracles import Knowledge
from oauth_conformance.robust.oracles import Sent
from oauth_conformance.robust.oracles import origin_of
from oauth_conformance.robust.oracles import run_checks
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.target import Target
from oauth_conformance.verdicts import Outcome

EXAMPLES_KEPT = 3  # exchanges kept as evidence per (requirement, endpoint)
HANGS_PER_OPERATION = 2  # after this many hangs, the operation is not fuzzed further
BOGUS = "oauth-conformance-bogus-value"
_DROPPED_HEADERS = frozenset({"content-length", "connection", "accept-encoding", "user-agent", "host"})


@dataclass
class FuzzFinding:
    """Every occurrence of one problem kind (a requirement) at one endpoint."""

    requirement: str
    endpoint: str
    message: str  # the first occurrence's
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.endpoint}: {self.message} (x{self.count})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "endpoint": self.endpoint,
            "message": self.message,
            "count": self.count,
            "examples": self.examples,
        }


def fuzz_findings(nodeid: str, requirement: str, found: list[FuzzFinding]) -> list[findings.Finding]:
    """Report findings (findings.py) of one requirement's fuzzing findings: one per endpoint, so the
    fingerprint names the property and the endpoint, never the random input or how often it showed."""
    out, start = [], 0
    for f in found:
        shown = tuple(range(start, start + len(f.examples)))
        start += len(f.examples)
        out.append(findings.Finding(findings.fingerprint(nodeid, f.endpoint), f.describe(), (requirement,), shown))
    return out


@dataclass
class FuzzResult:
    findings: list[FuzzFinding]
    requests: int
    elapsed: float
    budget: float
    max_examples: int
    timeout: float
    per_endpoint: dict[str, int]
    statuses: dict[str, int]
    out_of_time: bool
    notes: list[str]
    document: dict[str, Any]
    seeded: dict[str, int]

    def for_requirement(self, requirement: str) -> list[FuzzFinding]:
        return [f for f in self.findings if f.requirement == requirement]

    def summary(self) -> str:
        cut = ", stopped by the time budget" if self.out_of_time else ""
        return (
            f"{self.requests} requests to {len(self.per_endpoint)} endpoints in {self.elapsed:.1f}s"
            f" (budget {self.budget:.0f}s, {self.max_examples} examples per operation and mode{cut})"
        )

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "elapsed_seconds": round(self.elapsed, 3),
            "time_budget_seconds": self.budget,
            "max_examples": self.max_examples,
            "request_timeout_seconds": self.timeout,
            "out_of_time": self.out_of_time,
            "per_endpoint": self.per_endpoint,
            "statuses": self.statuses,
            "seeded": self.seeded,
            "notes": self.notes,
            "derandomized": True,
        }


def seed(target: Target, clients: Clients, oauth: OAuth) -> tuple[Seeds, dict[str, tuple[str, ...]], list[str]]:
    """Register the clients the fuzzer mixes in (and get a live token when a flow works)."""
    notes: list[str] = []
    made: list[Client] = []
    for kind in ("public", "confidential"):
        try:
            made.append(clients.public() if kind == "public" else clients.confidential())
        except Outcome as exc:
            notes.append(f"no {kind} client for the fuzzer: {exc.reason}")
        except httpx.HTTPError as exc:
            notes.append(f"no {kind} client for the fuzzer: the registration failed ({type(exc).__name__})")
    refresh: list[str] = []
    access: list[str] = []
    if made:
        try:
            tokens = oauth.tokens(made[0])
            access.append(tokens.access_token)
            if tokens.refresh_token:
                refresh.append(tokens.refresh_token)
        except Outcome as exc:
            notes.append(f"no live token for the fuzzer: {exc.reason}")
        except httpx.HTTPError as exc:
            notes.append(f"no live token for the fuzzer: {type(exc).__name__}")
    _, challenge = pkce_pair()
    seeds = Seeds(
        client_ids=tuple(c.client_id for c in made),
        redirect_uris=tuple(dict.fromkeys(c.redirect_uri for c in made)) or (target.profile.request.redirect_uri,),
        client_secrets=tuple(c.client_secret for c in made if c.client_secret),
        refresh_tokens=tuple(refresh),
        access_tokens=tuple(access),
        scope=target.profile.request.scope,
        resource=oauth.resource,
        code_challenge=challenge,
    )
    registered = {c.client_id: c.redirect_uris or (c.redirect_uri,) for c in made}
    return seeds, registered, notes


def own_origins(target: Target) -> set[str]:
    origins = {origin_of(target.url), origin_of(target.metadata_url)}
    if target.issuer:
        origins.add(origin_of(target.issuer))
    for value in target.metadata.values():
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            origins.add(origin_of(value))
    origins.update(o.lower() for o in target.profile.consent.allowed_origins)
    return origins


class Fuzzer:
    def __init__(
        self,
        target: Target,
        http: httpx.Client,
        *,
        budget: float,
        max_examples: int,
        timeout: float,
        seeds: Seeds,
        registered: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.target = target
        self.http = http
        self.budget = budget
        self.max_examples = max_examples
        self.timeout = timeout
        self.seeds = seeds
        self.knowledge = Knowledge(own_origins=own_origins(target), redirect_uris=dict(registered or {}))
        for secret in (*seeds.client_secrets, *seeds.refresh_tokens, *seeds.access_tokens):
            self.knowledge.issued.setdefault(secret, "the harness's setup")
        self.recorder = Recorder(keep=1)
        self.recorder.know(self.knowledge.issued)
        self.findings: dict[tuple[str, str], FuzzFinding] = {}
        self.requests = 0
        self.per_endpoint: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.notes: list[str] = []
        self.hangs: Counter[str] = Counter()
        self.deadline = 0.0
        self.out_of_time = False
        self.stopped = False
        self._executor: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------------------ sending
    def out_of_budget(self) -> bool:
        if time.monotonic() >= self.deadline:
            self.out_of_time = True
        return self.out_of_time or self.stopped

    def send(self, endpoint: Endpoint, request: httpx.Request, source: str) -> Sent | None:
        if self.out_of_budget() or self.hangs[endpoint.label] >= HANGS_PER_OPERATION:
            return None
        request.extensions["timeout"] = httpx.Timeout(self.timeout).as_dict()
        started = time.monotonic()
        response: httpx.Response | None = None
        failure: str | None = None
        try:
            response = self._send(request)
        except (httpx.TimeoutException, FutureTimeout):
            failure = "timeout"
        except httpx.ConnectError as exc:
            failure = f"dropped: cannot connect ({exc})"
        except httpx.TransportError as exc:
            failure = f"dropped: {type(exc).__name__}"
        sent = Sent(endpoint, request, response, failure, time.monotonic() - started, source)
        self.observe(sent)
        if failure == "timeout":
            self.hangs[endpoint.label] += 1
        elif failure is not None and "cannot connect" in failure:
            self.stopped = True
            self.notes.append(f"the target stopped accepting connections after request {self.requests}")
        return sent

    def _send(self, request: httpx.Request) -> httpx.Response:
        if not self.target.in_process:
            response = self.http.send(request)
            response.read()
            return response
        # An in-process app has no socket timeout: bound the wait on a worker thread instead.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fuzz")

        def call() -> httpx.Response:
            response = self.http.send(request)
            response.read()
            return response

        return self._executor.submit(call).result(timeout=self.timeout)

    def observe(self, sent: Sent) -> None:
        self.requests += 1
        self.per_endpoint[sent.endpoint.label] += 1
        self.statuses[f"{sent.status // 100}xx" if sent.status else (sent.failure or "none").split(":")[0]] += 1
        if sent.response is not None:
            self.recorder.add(sent.response)
        for rid, message in run_checks(sent, self.knowledge):
            self._found(rid, message, sent)
        self.knowledge.learn(sent, self.requests)
        self.recorder.know(self.knowledge.issued)

    def _found(self, rid: str, message: str, sent: Sent) -> None:
        key = (rid, sent.endpoint.label)
        finding = self.findings.get(key)
        if finding is None:
            finding = self.findings[key] = FuzzFinding(rid, sent.endpoint.label, message)
        finding.count += 1
        if len(finding.examples) < EXAMPLES_KEPT:
            note = f"{rid}: {message} (request {self.requests}, {sent.source})"
            finding.examples.append(evidence_of(sent, note))

    # --------------------------------------------------------------------------- the run
    def run(self) -> FuzzResult:
        started = time.monotonic()
        self.deadline = started + self.budget
        found = openapi.endpoints(self.target.metadata, self.target.metadata_url)
        try:
            self.explicit(found)
            self.generated(found)
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
        findings = sorted(self.findings.values(), key=lambda f: (f.requirement, f.endpoint))
        for finding in findings:
            finding.examples = [self._scrub(e) for e in finding.examples]
        return FuzzResult(
            findings=findings,
            requests=self.requests,
            elapsed=time.monotonic() - started,
            budget=self.budget,
            max_examples=self.max_examples,
            timeout=self.timeout,
            per_endpoint=dict(self.per_endpoint),
            statuses=dict(sorted(self.statuses.items())),
            out_of_time=self.out_of_time,
            notes=self.notes,
            document=openapi.describe(self.target.metadata, self.target.metadata_url),
            seeded={
                "clients": len(self.seeds.client_ids),
                "refresh_tokens": len(self.seeds.refresh_tokens),
                "access_tokens": len(self.seeds.access_tokens),
            },
        )

    def _scrub(self, item: dict[str, Any]) -> dict[str, Any]:
        return orjson.loads(self.recorder.scrub(orjson.dumps(item).decode()))  # type: ignore[no-any-return]

    # ---------------------------------------------------------------------- explicit probes
    def _form(self, endpoint: Endpoint, data: dict[str, str], source: str) -> Sent | None:
        body = urlencode(data).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.send(endpoint, self.http.build_request("POST", endpoint.url, headers=headers, content=body), source)

    def _json(self, endpoint: Endpoint, value: Any, source: str) -> Sent | None:
        headers = {"Content-Type": "application/json"}
        request = self.http.build_request("POST", endpoint.url, headers=headers, content=orjson.dumps(value))
        return self.send(endpoint, request, source)

    def _get(self, endpoint: Endpoint, params: dict[str, str], source: str) -> Sent | None:
        return self.send(endpoint, self.http.build_request("GET", endpoint.url, params=params), source)

    def explicit(self, found: list[Endpoint]) -> None:
        seeds = self.seeds
        client_id = seeds.client_ids[0] if seeds.client_ids else BOGUS
        redirect_uri = seeds.redirect_uris[0] if seeds.redirect_uris else self.target.profile.request.redirect_uri
        by_id = {e.operation_id: e for e in found}
        self._get(by_id["metadata"], {}, "probe: the metadata")
        token = by_id.get("token")
        if token is not None:
            for grant in self._grants():
                required, _ = openapi.GRANT_PARAMETERS[grant]
                full = {"grant_type": grant, "client_id": client_id}
                full.update({name: self._value_for(name) for name in required})
                self._form(token, full, f"probe: a complete {grant} request")
                for name in required:
                    less = {k: v for k, v in full.items() if k != name}
                    self._form(token, less, f"probe: {grant} without {name}")
            self._form(token, {"client_id": client_id, "code": BOGUS}, "probe: no grant_type")
            unknown = {"grant_type": "urn:oauth-conformance:unknown-grant", "client_id": client_id}
            self._form(token, unknown, "probe: an unknown grant_type")
            self._form(token, {}, "probe: an empty token request")
        revocation = by_id.get("revocation") or (token if token is not None and token.serves("revocation") else None)
        if revocation is not None:
            self._form(revocation, {"client_id": client_id, "token_type_hint": "refresh_token"}, "probe: no token")
        registration = by_id.get("registration")
        stored: str | None = None
        if registration is not None:
            bodies: tuple[Any, ...] = (
                {},
                [],
                "client",
                None,
                {"client_name": "x"},
                {"grant_types": ["authorization_code"], "response_types": ["code"]},
            )
            for body in bodies:
                self._json(registration, body, f"probe: registration body {orjson.dumps(body).decode()[:40]}")
            sent = self._json(registration, self._markup_client(redirect_uri), "probe: a client named with markup")
            stored = _client_id(sent)
        authorization = by_id.get("authorization")
        if authorization is not None:
            base = {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "state": "oauth-conformance-state",
                "code_challenge": seeds.code_challenge or "",
                "code_challenge_method": "S256",
            }
            for markup in openapi.MARKUP:
                self._get(authorization, {**base, "client_id": markup}, "probe: markup as client_id")
            for foreign in openapi.FOREIGN_URIS[:3]:
                self._get(authorization, {**base, "redirect_uri": foreign}, "probe: a foreign redirect_uri")
                unknown = {**base, "client_id": BOGUS, "redirect_uri": foreign}
                self._get(authorization, unknown, "probe: an unknown client with a foreign redirect_uri")
            self._get(authorization, {**base, "state": openapi.MARKUP[0]}, "probe: markup as state")
            self._get(authorization, {**base, "response_type": openapi.MARKUP[1]}, "probe: markup as response_type")
            self._get(authorization, {**base, "scope": openapi.MARKUP[2]}, "probe: markup as scope")
            if stored is not None:
                self._get(authorization, {**base, "client_id": stored}, "probe: the client named with markup")

    def _grants(self) -> list[str]:
        advertised = self.target.metadata.get("grant_types_supported", ["authorization_code"])
        if not isinstance(advertised, list):
            return ["authorization_code"]
        return [g for g in advertised if isinstance(g, str) and g in openapi.GRANT_PARAMETERS]

    def _value_for(self, name: str) -> str:
        if name == "refresh_token" and self.seeds.refresh_tokens:
            return BOGUS  # never spend the live token on a probe
        if name == "subject_token_type":
            return openapi.ACCESS_TOKEN_TYPE
        return BOGUS

    def _markup_client(self, redirect_uri: str) -> dict[str, Any]:
        methods = self.target.metadata.get("token_endpoint_auth_methods_supported", [])
        meta: dict[str, Any] = {
            "client_name": openapi.MARKUP[0],
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }
        if isinstance(methods, list) and "none" in methods:
            meta["token_endpoint_auth_method"] = "none"
        if self.target.profile.request.scope:
            meta["scope"] = self.target.profile.request.scope
        return meta

    # --------------------------------------------------------------------- generated cases
    def generated(self, found: list[Endpoint]) -> None:
        import schemathesis
        from schemathesis import GenerationMode

        for name, strategy in openapi.string_formats(self.target.metadata, self.seeds).items():
            schemathesis.openapi.format(name, strategy)  # this run's seeds behind each format
        document = openapi.describe(self.target.metadata, self.target.metadata_url)
        schema = schemathesis.openapi.from_dict(document)
        both = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        # The metadata request has nothing to negate: only its positive case exists.
        slices = [(e, m) for e in found for m in (both[:1] if e.operation_id == "metadata" else both)]
        for index, (endpoint, mode) in enumerate(slices):
            if self.out_of_budget():
                self.notes.append(f"the time budget ran out before {endpoint.label} ({mode.value})")
                continue
            share = (self.deadline - time.monotonic()) / (len(slices) - index)
            try:
                operation = schema.find_operation_by_id(endpoint.operation_id)
                self._fuzz(operation, endpoint, mode, time.monotonic() + share)
            except Exception as exc:  # generation itself failed: say so, keep the other operations
                self.notes.append(f"{endpoint.label} ({mode.value}): generation stopped: {type(exc).__name__}: {exc}")

    def _fuzz(self, operation: Any, endpoint: Endpoint, mode: Any, until: float) -> None:
        from hypothesis import HealthCheck
        from hypothesis import Phase
        from hypothesis import Verbosity
        from hypothesis import given
        from hypothesis import settings

        strategy = operation.as_strategy(generation_mode=mode)
        source = f"generated, {mode.value}"
        cut = 0

        @settings(
            max_examples=self.max_examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=(Phase.generate,),
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            print_blob=False,
        )
        @given(case=strategy)
        def one(case: Any) -> None:
            nonlocal cut
            if time.monotonic() >= until or self.out_of_budget():
                cut += 1  # past this operation's share of the budget: generated, not sent
                return
            request = self.request_for(case, endpoint)
            if request is None:
                return
            self.send(endpoint, request, source)

        one()
        if cut:
            self.notes.append(
                f"{endpoint.label} ({mode.value}): its share of the time budget ran out, {cut} cases unsent"
            )

    def request_for(self, case: Any, endpoint: Endpoint) -> httpx.Request | None:
        """The case as an httpx request: serialized by schemathesis, encoded by requests, sent by us."""
        import requests

        try:
            kwargs = case.as_transport_kwargs(base_url=endpoint.origin)
            headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in _DROPPED_HEADERS}
            prepared = requests.Request(
                method=kwargs["method"],
                url=kwargs["url"],
                headers=headers,
                params=kwargs.get("params"),
                data=kwargs.get("data"),
                json=kwargs.get("json"),
                cookies=kwargs.get("cookies") or None,
            ).prepare()
            body = prepared.body
            content = body.encode("utf-8") if isinstance(body, str) else body if isinstance(body, bytes) else None
            sent_headers = [
                (k, v if isinstance(v, str) else v.decode("latin-1"))
                for k, v in prepared.headers.items()
                if k.lower() not in _DROPPED_HEADERS
            ]
            assert prepared.method is not None and prepared.url is not None
            return self.http.build_request(prepared.method, prepared.url, headers=sent_headers, content=content)
        except Exception:  # a case no HTTP client can send (a header outside latin-1, say)
            self.statuses["unsendable"] += 1
            return None


def _client_id(sent: Sent | None) -> str | None:
    if sent is None or sent.response is None or not 200 <= sent.response.status_code < 300:
        return None
    try:
        body = orjson.loads(sent.response.content)
    except orjson.JSONDecodeError:
        return None
    value = body.get("client_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def evidence_of(sent: Sent, note: str) -> dict[str, Any]:
    """The exchange as report evidence (redacted); a request that got no answer shows status null."""
    if sent.response is not None:
        return record(sent.response, note).as_dict()
    request = sent.request
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = b""
    exchange = Exchange(
        method=request.method,
        url=redact_url(str(request.url)),
        request_headers={
            k: redact_header(k, v)
            for k, v in request.headers.items()
            if k.lower() not in ("host", "user-agent", "accept-encoding", "connection", "content-length", "accept")
        },
        request_body=redact_body(body, request.headers.get("content-type")),
        status=None,
        response_headers={},
        response_body="",
        note=f"{note}; {sent.failure} after {sent.elapsed:.1f}s",
    )
    return exchange.as_dict()


def fuzz(
    target: Target,
    http: httpx.Client,
    clients: Clients,
    oauth: OAuth,
    *,
    budget: float | None = None,
    max_examples: int | None = None,
    timeout: float | None = None,
) -> FuzzResult:
    """Seed, then fuzz ``target`` within the budget (defaults from the profile's ``[robust]``)."""
    settings = target.profile.robust
    seeds, registered, notes = seed(target, clients, oauth)
    fuzzer = Fuzzer(
        target,
        http,
        budget=settings.time_budget if budget is None else budget,
        max_examples=settings.max_examples if max_examples is None else max_examples,
        timeout=settings.request_timeout if timeout is None else timeout,
        seeds=seeds,
        registered=registered,
    )
    result = fuzzer.run()
    result.notes[:0] = notes
    return result
