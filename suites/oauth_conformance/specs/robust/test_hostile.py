"""ROBUST hostile input: each kind of abuse a named requirement. Every hostile request must get a
clear 4xx within ``[robust] request_timeout`` (never a 5xx, a dropped connection or no answer),
and the target must answer a normal request afterwards. Token requests carry a bogus code, so a
4xx is owed whatever the server makes of the abuse itself; the failing requests are the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from oauth_conformance import requirement
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.evidence import Recorder
from oauth_conformance.features import Feature
from oauth_conformance.robust.hostile import Answer
from oauth_conformance.robust.hostile import Headers
from oauth_conformance.robust.hostile import Sender
from oauth_conformance.robust.hostile import healthy
from oauth_conformance.support import races
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import basic_auth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import Outcome
from oauth_conformance.verdicts import not_applicable

BIG_BODY = 8 << 20
BIG_HEADER = 64 << 10
LONG_VALUE = 64 << 10
LONG_QUERY_VALUE = 60 << 10  # a whole URL stays under 64 KiB, the most an HTTP client library will send
BOGUS_CODE = "oauth-conformance-bogus-code"
# Authorization request parameters no spec bounds in length: state is the client's to choose, a
# scope the server does not know may be ignored, and an S256 challenge of the wrong length simply
# never matches (RFC7636-4.2-CHALLENGE-SYNTAX asks for more).
UNBOUNDED_AUTHORIZATION_PARAMETERS = frozenset({"state", "scope", "code_challenge"})
# RFC 7009 section 2.2: an invalid token (and an unknown hint) is answered 200, so a garbage
# revocation request may get 200 as well as a 4xx; what is never owed is a 5xx or silence.
REVOCATION_OK = (200,)


class Hostile:
    """A test's view of the target for hostile requests: endpoints, a client, the sender."""

    def __init__(self, target: Target, sender: Sender, clients: Clients, http: httpx.Client) -> None:
        self.target = target
        self.sender = sender
        self.http = http
        self.timeout = target.profile.robust.request_timeout
        self.redirect_uri = target.profile.request.redirect_uri
        self.client_id = "oauth-conformance-unregistered"
        self.auth_headers: list[tuple[str, str]] = []
        self.auth_fields: dict[str, str] = {}
        try:
            client = clients.public()
        except Outcome:
            try:
                client = clients.confidential()
            except Outcome:
                client = None
        if client is not None:
            self.client_id, self.redirect_uri = client.client_id, client.redirect_uri
            if client.client_secret and client.auth_method == "client_secret_basic":
                self.auth_headers = [("Authorization", basic_auth(client.client_id, client.client_secret))]
            elif client.client_secret:
                self.auth_fields = {"client_id": client.client_id, "client_secret": client.client_secret}
            else:
                self.auth_fields = {"client_id": client.client_id}

    @property
    def token(self) -> str:
        url = self.target.endpoint("token_endpoint")
        if url is None:
            raise NotTested("the metadata has no token_endpoint")
        return url

    @property
    def revocation(self) -> str | None:
        url = self.target.endpoint("revocation_endpoint")
        return url if url != self.target.endpoint("token_endpoint") else None

    @property
    def registration(self) -> str:
        url = self.target.endpoint("registration_endpoint")
        if url is None:
            not_applicable("the target has no registration endpoint")
        return url

    def code_request(self, **overrides: str) -> dict[str, str]:
        verifier, _ = pkce_pair()
        data = {
            "grant_type": "authorization_code",
            "code": BOGUS_CODE,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
            **self.auth_fields,
        }
        data.update(overrides)
        return data

    def registration_body(self, **members: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "redirect_uris": [self.redirect_uri],
            "client_name": "oauth-conformance hostile",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
        body.update(members)
        return body

    def token_form(self, what: str, body: bytes | str, headers: list[tuple[str, str]] | None = None) -> Answer:
        return self.sender.form(what, self.token, body, [*self.auth_headers, *(headers or [])])


@pytest.fixture
def hostile(target: Target, http: httpx.Client, clients: Clients) -> Iterator[Hostile]:
    robust = target.profile.robust
    sender = Sender(target, http, robust.request_timeout, robust.early_answer_wait)
    try:
        yield Hostile(target, sender, clients, http)
    finally:
        sender.close()


def assert_refused_and_still_working(hostile: Hostile, recorder: Recorder) -> None:
    """Every request the test sent got a clear 4xx in time, and the target answers normally now."""
    __tracebackhide__ = True
    problems = []
    for answer in hostile.sender.sent:
        problem = answer.problem(hostile.timeout)
        if problem:
            problems.append(problem)
            # One finding per kind of hostile request (its label, never a size or a count of its own).
            recorder.flag(answer.what, problem, [answer.evidence()])
    after = healthy(hostile.http, hostile.target, hostile.timeout)
    if after:
        problems.append(after)
        recorder.flag("unhealthy-afterwards", after)
    assert not problems, f"{len(problems)} of {len(hostile.sender.sent)} hostile requests: " + "; ".join(problems[:5])


def form(data: dict[str, str] | list[tuple[str, str]]) -> str:
    return urlencode(data)


# ------------------------------------------------------------------------- registrations
# The abusive registrations, by kind. Each kind's MUST test sends its own and asks only that the
# server survive them (no 5xx, no hang, still working): the RFCs set no limits on metadata, so
# accepting one is not a violation. ROBUST-HOSTILE-REGISTRATION-LIMITS (a SHOULD) sends them all
# and asks that they be refused.
REGISTRATION_KINDS = ("big-body", "deep-json", "huge-json", "content-type", "encoding", "long-values")
JSON: Headers = [("Content-Type", "application/json")]


def registration_abuse(hostile: Hostile, kind: str) -> list[tuple[str, bytes | str, Headers]]:
    """(what, body, headers) of the abusive registrations of ``kind``."""
    meta = hostile.registration_body
    if kind == "big-body":
        return [("an 8 MiB registration", orjson.dumps(meta(client_name="A" * BIG_BODY)), JSON)]
    if kind == "deep-json":
        deep = [
            (
                f"a registration nested {depth} levels deep in an array",
                '{"redirect_uris":' + "[" * depth + "]" * depth + "}",
                JSON,
            )
            for depth in (100_000, 5_000)
        ]
        deep_object = '{"client_name":' + '{"a":' * 5_000 + "1" + "}" * 5_000 + "}"
        return [*deep, ("a registration nested 5000 levels deep in objects", deep_object, JSON)]
    if kind == "huge-json":
        uris = [f"https://client.oauth-conformance.invalid/cb/{i}" for i in range(50_000)]
        many = meta(**{f"x{i}": i for i in range(100_000)})
        return [
            ("a registration with 50,000 redirect URIs", orjson.dumps(meta(redirect_uris=uris)), JSON),
            ("a registration with 100,000 members", orjson.dumps(many), JSON),
        ]
    if kind == "content-type":
        flat = form({"redirect_uris": hostile.redirect_uri, "client_name": "oauth-conformance hostile"})
        return [
            ("a registration as text/plain", orjson.dumps(meta()), [("Content-Type", "text/plain")]),
            ("a registration without Content-Type", orjson.dumps(meta()), []),
            ("a registration form-encoded", flat, [("Content-Type", "application/x-www-form-urlencoded")]),
        ]
    if kind == "encoding":
        raw = orjson.dumps(meta(client_name="NAME")).replace(b"NAME", b"\xff\xfe\xfd")
        return [
            ("a registration with raw invalid UTF-8", raw, JSON),
            *(
                (f"a registration with {label} in a redirect URI", orjson.dumps(meta(redirect_uris=[uri])), JSON)
                for label, uri in (
                    ("NUL", "https://client.example/c\u0000b"),
                    ("CR LF", "https://client.example/c\r\nb"),
                )
            ),
        ]
    if kind == "long-values":
        long = "a" * LONG_VALUE
        uri = "https://client.oauth-conformance.invalid/" + long
        members: dict[str, Any] = {
            "client_name": long,
            "redirect_uris": [uri],
            "client_uri": uri,
            "logo_uri": uri,
            "scope": long,
            "token_endpoint_auth_method": long,
            "grant_types": [long],
            "contacts": [long + "@client.example"],
            "software_id": long,
        }
        return [
            (f"a registration with a 64 KiB {name}", orjson.dumps(meta(**{name: value})), JSON)
            for name, value in members.items()
        ]
    raise ValueError(kind)


def send_registrations(hostile: Hostile, kind: str) -> list[Answer]:
    """Send the abusive registrations of ``kind`` (none when the target has no registration endpoint)."""
    if not hostile.target.endpoint("registration_endpoint"):
        return []
    url = hostile.registration
    return [
        hostile.sender.registration(what, url, body, headers)
        for what, body, headers in registration_abuse(hostile, kind)
    ]


# ---------------------------------------------------------------------------------------- tests
@requirement("ROBUST-HOSTILE-BIG-BODY")
def test_an_8_mib_body_is_refused_in_time(hostile: Hostile, recorder: Recorder) -> None:
    filler = "A" * BIG_BODY
    hostile.token_form("an 8 MiB token request", form(hostile.code_request(code=filler)))
    if hostile.revocation:
        revoke = form({"token": filler, **hostile.auth_fields})
        hostile.sender.form("an 8 MiB revocation request", hostile.revocation, revoke, also_ok=REVOCATION_OK)
    send_registrations(hostile, "big-body")
    assert_refused_and_still_working(hostile, recorder)


@requirement("ROBUST-HOSTILE-BIG-HEADERS")
def test_oversized_headers_are_refused_in_time(hostile: Hostile, target: Target, recorder: Recorder) -> None:
    body = form(hostile.code_request())
    big_basic = [("Authorization", "Basic " + "A" * BIG_HEADER)]
    hostile.sender.form("a token request with a 64 KiB Authorization header", hostile.token, body, big_basic)
    many = [(f"X-Oauth-Conformance-{i}", "v" * 100) for i in range(400)]
    hostile.token_form("a token request with 400 extra headers", body, many)
    resource = target.profile.resource.url
    if resource:
        bearer = [("Authorization", "Bearer " + "A" * BIG_HEADER)]
        hostile.sender.send("a resource request with a 64 KiB bearer token", "GET", resource, bearer)
    assert_refused_and_still_working(hostile, recorder)


@requirement("ROBUST-HOSTILE-DEEP-JSON")
def test_deeply_nested_registration_json_is_survived(hostile: Hostile, recorder: Recorder) -> None:
    hostile.registration  # noqa: B018 (not_applicable without a registration endpoint)
    send_registrations(hostile, "deep-json")
    assert_refused_and_still_working(hostile, recorder)


@requirement("ROBUST-HOSTILE-HUGE-JSON")
def test_a_registration_of_absurd_size_is_survived(hostile: Hostile, recorder: Recorder) -> None:
    hostile.registration  # noqa: B018 (not_applicable without a registration endpoint)
    send_registrations(hostile, "huge-json")
    assert_refused_and_still_working(hostile, recorder)


@requirement("ROBUST-HOSTILE-CONTENT-TYPE")
def test_wrong_and_missing_content_types_are_refused(hostile: Hostile, recorder: Recorder) -> None:
    send = hostile.sender.send
    data = hostile.code_request()
    body = form(data).encode()
    auth = hostile.auth_headers
    send(
        "a token request as JSON",
        "POST",
        hostile.token,
        [("Content-Type", "application/json"), *auth],
        orjson.dumps(data),
    )
    send("a token request as text/plain", "POST", hostile.token, [("Content-Type", "text/plain"), *auth], body)
    send("a token request without Content-Type", "POST", hostile.token, auth, body)
    if hostile.revocation:
        revoke = form({"token": BOGUS_CODE, **hostile.auth_fields}).encode()
        plain = [("Content-Type", "text/plain"), *auth]
        send("a revocation as text/plain", "POST", hostile.revocation, plain, revoke, also_ok=REVOCATION_OK)
    send_registrations(hostile, "content-type")
    assert_refused_and_still_working(hostile, recorder)


@requirement("ROBUST-HOSTILE-DUPLICATE-PARAMS")
def test_duplicated_parameters_are_refused(hostile: Hostile, recorder: Recorder) -> None:
    pairs = list(hostile.code_request().items())
    for name, value in (("grant_type", "authorization_code"), ("code", BOGUS_CODE), ("client_id", hostile.client_id)):
        hostile.token_form(f"a token request with {name} twice", form([*pairs, (name, value)]))
    revocation = hostile.revocation or (hostile.token if hostile.target.endpoint("revocation_endpoint") else None)
    if revocation:
        twice = form([("token", BOGUS_CODE), ("token", BOGUS_CODE + "-2"), *hostile.auth_fields.items()])
        hostile.sender.form("a revocation with token twice", revocation, twice, hostile.auth_headers, REVOCATION_OK)
    assert_refused_and_still_working(hostile, recorder)


@requirement("ROBUST-HOSTILE-ENCODING")
def test_invalid_utf8_and_control_characters_are_refused(hostile: Hostile, recorder: Recorder) -> None:
    base = form(hostile.code_request(code="CODE"))
    hostile.token_form("a token request with percent-encoded invalid UTF-8", base.replace("CODE", "%FF%FE%FD"))
    hostile.token_form("a token request with raw invalid UTF-8", base.encode().replace(b"CODE", b"\xff\xfe\xfd"))
    hostile.token_form("a token request with NUL in the code", base.replace("CODE", "abc%00def"))
    hostile.token_form("a token request with CR LF in the code", base.replace("CODE", "abc%0D%0AX-Injected:%201"))
    send_registrations(hostile, "encoding")
    assert_refused_and_still_working(hostile, recorder)


@requirement("ROBUST-HOSTILE-LONG-VALUES")
def test_absurdly_long_values_are_refused(hostile: Hostile, target: Target, oauth: OAuth, recorder: Recorder) -> None:
    long = "a" * LONG_VALUE
    names = ["grant_type", "code", "redirect_uri", "code_verifier", "client_id"]
    names += ["resource"] if target.supports(Feature.RESOURCE_INDICATORS) else []
    for name in names:
        hostile.token_form(f"a token request with a 64 KiB {name}", form(hostile.code_request(**{name: long})))
    refresh = {"grant_type": "refresh_token", "refresh_token": BOGUS_CODE, **hostile.auth_fields}
    for name in ("refresh_token", "scope"):
        hostile.token_form(f"a refresh request with a 64 KiB {name}", form({**refresh, name: long}))
    revocation = hostile.revocation or (hostile.token if target.endpoint("revocation_endpoint") else None)
    if revocation:
        for name in ("token", "token_type_hint"):
            data = {"token": BOGUS_CODE, "token_type_hint": "refresh_token", **hostile.auth_fields, name: long}
            what = f"a revocation with a 64 KiB {name}"
            hostile.sender.form(what, revocation, form(data), hostile.auth_headers, REVOCATION_OK)
    send_registrations(hostile, "long-values")
    authorization = target.endpoint("authorization_endpoint")
    if authorization:
        _, challenge = pkce_pair()
        query = {
            "response_type": "code",
            "client_id": hostile.client_id,
            "redirect_uri": hostile.redirect_uri,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        names = ["client_id", "redirect_uri", "state", "scope", "code_challenge", "response_type"]
        if target.supports(Feature.RESOURCE_INDICATORS):
            names.append("resource")  # elsewhere an unknown parameter, which OAuth 2.1 section 3.1 ignores
        for name in names:
            params = urlencode({**query, name: "a" * LONG_QUERY_VALUE}, quote_via=quote)
            url = authorization + ("&" if "?" in authorization else "?") + params
            what = f"an authorization request with a 60 KiB {name}"
            if name in UNBOUNDED_AUTHORIZATION_PARAMETERS:
                # No spec bounds these: approving is the server's call; only a 5xx, silence or a
                # broken server afterwards counts.
                hostile.sender.send(what, "GET", url, [], b"", (200, 302, 303), error_redirect_ok=True)
                continue
            # Refused as a 4xx, or (client and redirect URI known) by a redirect with error=.
            answer = hostile.sender.send(what, "GET", url, [], error_redirect_ok=True)
            if answer.status == 200:
                follow_the_page(answer, oauth, url, hostile.redirect_uri)
    assert_refused_and_still_working(hostile, recorder)


@requirement("ROBUST-HOSTILE-REGISTRATION-LIMITS")
def test_registrations_no_server_should_hold_are_refused(hostile: Hostile, recorder: Recorder) -> None:
    url = hostile.registration
    sent = 0
    accepted = []
    for kind in REGISTRATION_KINDS:
        for what, body, headers in registration_abuse(hostile, kind):
            answer = hostile.sender.registration(what, url, body, headers)
            sent += 1
            if answer.status is not None and 200 <= answer.status < 300:
                accepted.append(f"{what} (HTTP {answer.status})")
                recorder.flag(what, f"{what}: accepted with HTTP {answer.status}", [answer.evidence()])
    assert not accepted, f"{len(accepted)} of {sent} abusive registrations were accepted: " + "; ".join(accepted[:6])


def follow_the_page(answer: Answer, oauth: OAuth, url: str, redirect_uri: str) -> None:
    """A page (login, consent) may stand before a refusal (OAuth 2.1 section 7.12.2): go through it
    with the consent driver; only a code at the end makes the request a success it should not be."""
    try:
        callback = oauth.driver.complete(url, redirect_uri, approve=True)
    except (DriverStopped, httpx.HTTPError):
        callback = None  # it never came back to the client with a code
    if callback is not None and callback.first("code"):
        answer.approved = f"HTTP {callback.status} to the redirect URI with a code"
    else:
        answer.also_ok = (*answer.also_ok, 200)


@requirement("ROBUST-HOSTILE-CONCURRENT-CODE")
def test_simultaneous_redemptions_of_one_code_give_at_most_one_token(
    hostile: Hostile, oauth: OAuth, clients: Clients, recorder: Recorder
) -> None:
    result = races.code_race(oauth, clients.public(), losers_4xx=True, recorder=recorder)
    assert_race_clean(hostile, result, recorder)


@requirement("ROBUST-HOSTILE-CONCURRENT-REFRESH")
def test_simultaneous_refreshes_of_one_refresh_token_leave_one_live_successor(
    hostile: Hostile, oauth: OAuth, clients: Clients, recorder: Recorder
) -> None:
    result = races.refresh_race(oauth, clients.public(), losers_4xx=True, recorder=recorder)
    assert_race_clean(hostile, result, recorder)


def assert_race_clean(hostile: Hostile, result: races.RaceRounds, recorder: Recorder) -> None:
    """No round of the race broke a rule (its racers are the evidence), and the target still works."""
    __tracebackhide__ = True
    result.show(recorder)
    assert result.violation is None, result.violation
    still = healthy(hostile.http, hostile.target, hostile.timeout)
    assert still is None, still
