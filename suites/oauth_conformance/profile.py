"""Target profiles: what a target's URL cannot tell the harness (TOML).

Secrets are never written in a profile: a secret is ``{ env = "NAME" }`` and is read from the
environment when needed. Every field is checked when the profile loads; a mistake is a
:class:`ProfileError` naming the field (exit status 2).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from typing import Any


class ProfileError(ValueError):
    """The profile is not valid; the message names the field."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A value read from an environment variable when it is needed."""

    env: str

    def value(self) -> str:
        try:
            return os.environ[self.env]
        except KeyError:
            raise ProfileError(f"environment variable {self.env} (named in the profile) is not set") from None

    def __repr__(self) -> str:
        return f"Secret(env={self.env!r})"


DEFAULT_REDIRECT_URI = "http://127.0.0.1:8976/callback"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True, slots=True)
class TargetSection:
    url: str | None = None
    issuer: str | None = None
    allow_http_loopback: bool = True
    name: str | None = None


@dataclass(frozen=True, slots=True)
class RequestSection:
    scope: str | None = None
    resource: str | None = None  # default: the resource in RFC 9728 metadata, when known
    send_resource: bool = True
    redirect_uri: str = DEFAULT_REDIRECT_URI
    extra_params: Mapping[str, str] = field(default_factory=dict)
    # The secret method a confidential test client uses when a test does not ask for one; default:
    # client_secret_basic if advertised, else client_secret_post. Tests of the methods themselves
    # (OAUTH21-3.2.2-AUTH-METHODS) try every advertised one whatever this says.
    auth_method: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """One control on a login or consent page (a submit button, or a link), by any of: its
    ``name`` and ``value`` (``name = ""``: a button without a name), its visible ``text``, or a
    CSS ``selector``. Everything given must match."""

    name: str | None = None
    value: str | None = None
    text: str | None = None
    selector: str | None = None

    def describe(self) -> str:
        """The spec as a profile writes it (TOML inline table)."""
        given = [(k, getattr(self, k)) for k in ("name", "value", "text", "selector")]
        return "{ " + ", ".join(f"{k} = {_toml_string(v)}" for k, v in given if v is not None) + " }"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class FormSection:
    fields: Mapping[str, str | Secret] = field(default_factory=dict)  # filled in wherever a form has them
    login: ButtonSpec | None = None  # the control that submits the login form (default: its only button)
    approve: ButtonSpec | None = None
    deny: ButtonSpec | None = None
    max_pages: int = 6


BROWSER_ACTIONS = ("fill", "click", "wait", "press")
WAIT_STATES = ("attached", "visible", "hidden", "detached")


@dataclass(frozen=True, slots=True)
class BrowserStep:
    action: str  # fill | click | wait | press
    selector: str
    value: str | Secret | None = None
    optional: bool = False
    state: str = "attached"  # what a wait step waits for: attached | visible | hidden | detached

    def describe(self) -> str:
        return f"{self.action} {self.selector!r}"


@dataclass(frozen=True, slots=True)
class BrowserSection:
    login_steps: tuple[BrowserStep, ...] = ()  # run first, whatever the choice
    steps: tuple[BrowserStep, ...] = ()  # then these to approve
    deny_steps: tuple[BrowserStep, ...] = ()  # or these to deny
    executable: str = DEFAULT_CHROMIUM
    timeout: float = 15.0  # seconds for each step, and for the last redirect after them


@dataclass(frozen=True, slots=True)
class ConsentSection:
    driver: str = "redirect"  # redirect | form | browser | python
    allowed_origins: tuple[str, ...] = ()
    form: FormSection = field(default_factory=FormSection)
    browser: BrowserSection = field(default_factory=BrowserSection)
    callable: str | None = None  # python driver: "package.module:function"
    max_redirects: int = 12
    deny_params: Mapping[str, str] = field(default_factory=dict)  # request parameters a test target denies


# What a pre-registered client may do when its [[clients]] entry does not say.
DEFAULT_CLIENT_GRANTS = ("authorization_code", "refresh_token")


@dataclass(frozen=True, slots=True)
class ClientSection:
    """A pre-registered client: what it is registered with, so a test can pick one that fits."""

    kind: str  # public | confidential
    client_id: str
    client_secret: Secret | None = None
    auth_method: str = "none"
    redirect_uris: tuple[str, ...] = ()  # empty: the run's [request] redirect_uri
    grant_types: tuple[str, ...] = DEFAULT_CLIENT_GRANTS
    scope: str | None = None

    @property
    def redirect_uri(self) -> str | None:
        """The first registered redirect URI (None: the run's [request] redirect_uri)."""
        return self.redirect_uris[0] if self.redirect_uris else None


@dataclass(frozen=True, slots=True)
class ResourceSection:
    url: str | None = None
    method: str = "GET"
    # Whether the resource serves RFC 9728 metadata: None finds out (the 401 challenge, the
    # well-known URIs); true holds the target to RFC 9728 even when none is found (an MCP server
    # must serve it); false leaves those requirements out.
    metadata: bool | None = None
    # A protected URL that needs a scope the run's tokens lack (RFC 6750 insufficient_scope).
    insufficient_scope_url: str | None = None


@dataclass(frozen=True, slots=True)
class ClockSection:
    mode: str = "none"  # header | hook | freeze | wait | none
    hook: str | None = None
    wait_budget: float = 0.0


@dataclass(frozen=True, slots=True)
class PolicySection:
    refresh_grace: bool = False  # the target documents a grace period for superseded refresh tokens
    scope_required: bool = False
    concurrency: int = 8  # simultaneous requests in race tests
    # Seconds the target says it gives a server-side fetch (a CIMD document) before giving up; the
    # trickling-document test then waits that long plus FETCH_SLACK, not its undeclared 15 s.
    fetch_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class FixtureHostSection:
    enabled: bool = True
    public_base_url: str | None = None  # the name the target uses for the host (a proxy, a public copy)
    https: bool = True
    bind: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    reachable: bool | None = None  # can the target fetch from it? default: yes for loopback targets
    # The target's platform sends every outbound fetch to the host whatever its address (miniflare's
    # outboundService): what the target does with a special-use address cannot be seen.
    proxied: bool = False


@dataclass(frozen=True, slots=True)
class IdJagSection:
    trusted: bool = False  # the target trusts the harness's test IdP (see `oauth-conformance fixtures`)


# The budgets a run uses unless the profile sets them: a quick run's, and a thorough run's
# (``--thorough``, ``[robust] thorough = true``), which are the long budgets of earlier releases.
QUICK_BUDGETS: dict[str, float] = {"max_examples": 20, "early_answer_wait": 0.05}
THOROUGH_BUDGETS: dict[str, float] = {"max_examples": 50, "early_answer_wait": 0.25}


@dataclass(frozen=True, slots=True)
class RobustSection:
    time_budget: float = 30.0  # seconds for the fuzzing, and again for the state machine
    max_examples: int = int(QUICK_BUDGETS["max_examples"])  # fuzzed requests per operation and generation mode
    stateful_examples: int = 12  # programs the state machine runs
    stateful_steps: int = 10  # steps per program
    request_timeout: float = 10.0  # a request unanswered after this long is a hang
    other_resource: str | None = None  # a protected URL the run's tokens must not reach
    # Seconds an oversized hostile request waits, after its first chunk, for an early refusal
    # (plus a few round trips, measured on its connection).
    early_answer_wait: float = QUICK_BUDGETS["early_answer_wait"]
    thorough: bool = False  # the long budgets, for every budget the profile does not set itself
    chosen: frozenset[str] = frozenset()  # the budgets the profile sets itself

    def made_thorough(self) -> RobustSection:
        """The same section with the long budgets, except where the profile chose its own."""
        changed: dict[str, Any] = {k: v for k, v in THOROUGH_BUDGETS.items() if k not in self.chosen}
        if "max_examples" in changed:
            changed["max_examples"] = int(changed["max_examples"])
        return replace(self, thorough=True, **changed)


@dataclass(frozen=True, slots=True)
class RequirementNote:
    """Requirements whose verdict on this target depends on something besides the implementation:
    ``provided_by = "fixture"`` says the behaviour comes from the glue the target's fixture adds
    (an application's own redirect matching, a provider class the library leaves to its user), so a
    pass or a fail there is not the library's. Reports and the compare matrix show it."""

    ids: tuple[str, ...]
    provided_by: str  # fixture
    why: str


@dataclass(frozen=True)
class GateSection:
    # Percent of the run's testable MUSTs that must be verified; below it the run is INCONCLUSIVE
    # (exit 5), never PASSED. None: no minimum (the core capabilities are required regardless).
    min_coverage: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    target: TargetSection = field(default_factory=TargetSection)
    request: RequestSection = field(default_factory=RequestSection)
    consent: ConsentSection = field(default_factory=ConsentSection)
    clients: tuple[ClientSection, ...] = ()
    resource: ResourceSection = field(default_factory=ResourceSection)
    clock: ClockSection = field(default_factory=ClockSection)
    policy: PolicySection = field(default_factory=PolicySection)
    fixture_host: FixtureHostSection = field(default_factory=FixtureHostSection)
    robust: RobustSection = field(default_factory=RobustSection)
    idjag: IdJagSection = field(default_factory=IdJagSection)
    source: str | None = None
    notes: tuple[RequirementNote, ...] = ()
    gate: GateSection = field(default_factory=GateSection)
    # [versions]: the version of a text to test instead of its newest (OAUTH21 = "13")
    versions: tuple[tuple[str, str], ...] = ()

    def note_for(self, requirement_id: str) -> RequirementNote | None:
        return next((n for n in self.notes if requirement_id in n.ids), None)

    def expanded(self, target: str) -> Profile:
        """``{target}`` in the profile's URLs becomes the target's base URL (known only at run time)."""
        base = target.rstrip("/")

        def sub(value: str | None) -> str | None:
            return value.replace("{target}", base) if value else value

        return replace(
            self,
            request=replace(
                self.request, resource=sub(self.request.resource), redirect_uri=sub(self.request.redirect_uri) or ""
            ),
            resource=replace(
                self.resource,
                url=sub(self.resource.url),
                insufficient_scope_url=sub(self.resource.insufficient_scope_url),
            ),
            clock=replace(self.clock, hook=sub(self.clock.hook)),
            robust=replace(self.robust, other_resource=sub(self.robust.other_resource)),
            clients=tuple(replace(c, redirect_uris=tuple(sub(u) or u for u in c.redirect_uris)) for c in self.clients),
        )

    def client(self, kind: str, auth_method: str | None = None) -> ClientSection | None:
        """The first client of ``kind`` (using ``auth_method``), or None; see :meth:`clients_of`."""
        found = self.clients_of(kind, auth_method)
        return found[0] if found else None

    def clients_of(self, kind: str, auth_method: str | None = None) -> list[ClientSection]:
        """Every client of ``kind`` (using ``auth_method``, when given), in profile order."""
        return [c for c in self.clients if c.kind == kind and (auth_method is None or c.auth_method == auth_method)]

    def secrets(self) -> list[Secret]:
        """Every secret the profile names (clients' secrets, form fields, browser steps)."""
        found = [c.client_secret for c in self.clients if c.client_secret is not None]
        found += [v for v in self.consent.form.fields.values() if isinstance(v, Secret)]
        steps = (*self.consent.browser.steps, *self.consent.browser.deny_steps)
        found += [s.value for s in steps if isinstance(s.value, Secret)]
        return found

    def secret_values(self) -> list[str]:
        """The values of :meth:`secrets` that the environment holds (for redaction, never for output)."""
        return [os.environ[s.env] for s in self.secrets() if os.environ.get(s.env)]


# ---------------------------------------------------------------------------------------- loading

_DRIVERS = ("redirect", "form", "browser", "python")
_CLOCK_MODES = ("header", "hook", "freeze", "wait", "none")
_AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")


class _Reader:
    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind in (int, float, (int, float)) and isinstance(value, bool)):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ProfileError(f"{self._name(key)}: must be {names}")
        return value

    def string(self, key: str, default: str | None = None, *, choices: tuple[str, ...] = ()) -> Any:
        value = self._get(key, str, default)
        if choices and value is not None and value not in choices:
            raise ProfileError(f"{self._name(key)}: must be one of {', '.join(choices)}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        return bool(self._get(key, bool, default))

    def optional_boolean(self, key: str) -> bool | None:
        value = self._get(key, bool, None)
        return None if value is None else bool(value)

    def number(self, key: str, default: float) -> float:
        return float(self._get(key, (int, float), default))

    def integer(self, key: str, default: int) -> int:
        value = self._get(key, int, default)
        if value < 0:
            raise ProfileError(f"{self._name(key)}: must not be negative")
        return int(value)

    def url(self, key: str, default: str | None = None) -> str | None:
        value = self.string(key, default)
        if value is not None and not value.startswith(("http://", "https://", "{target}")):
            raise ProfileError(f"{self._name(key)}: must be an absolute http(s) URL")
        return value  # type: ignore[no-any-return]

    def secret(self, key: str) -> Secret | None:
        self.used.add(key)
        if key not in self.data:
            return None
        return _secret(self.data[key], self._name(key))

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self._get(key, list, None)
        if value is None:
            return default
        if not all(isinstance(item, str) and item for item in value):
            raise ProfileError(f"{self._name(key)}: must be a list of non-empty strings")
        return tuple(value)

    def section(self, key: str) -> _Reader:
        value = self._get(key, dict, {})
        return _Reader(value, self._name(key))

    def sections(self, key: str) -> list[_Reader]:
        value = self._get(key, list, [])
        readers = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise ProfileError(f"{self._name(key)}[{i}]: must be a table")
            readers.append(_Reader(item, f"{self._name(key)}[{i}]"))
        return readers

    def string_map(self, key: str, *, secrets: bool = False) -> dict[str, Any]:
        value = self._get(key, dict, {})
        out: dict[str, Any] = {}
        for name, item in value.items():
            if isinstance(item, str):
                out[name] = item
            elif secrets and isinstance(item, dict):
                out[name] = _secret(item, f"{self._name(key)}.{name}")
            else:
                raise ProfileError(
                    f"{self._name(key)}.{name}: must be a string" + (" or { env = ... }" if secrets else "")
                )
        return out

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ProfileError(f"{self._name(unknown[0])}: unknown field")


def _client_redirect_uris(reader: _Reader) -> tuple[str, ...]:
    """``redirect_uri`` (one) and ``redirect_uris`` (a list) of a [[clients]] entry, in that order."""
    one = reader.string("redirect_uri")
    many = reader.strings("redirect_uris")
    uris = ((one,) if one else ()) + tuple(u for u in many if u != one)
    for uri in uris:
        if ":" not in uri:
            raise ProfileError(f"{reader.path}.redirect_uris: {uri!r} is not an absolute URI")
    return uris


def _secret(value: object, name: str) -> Secret:
    if isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str) and value["env"]:
        return Secret(value["env"])
    if isinstance(value, str):
        raise ProfileError(f'{name}: secrets are not written in profiles; use {{ env = "VARIABLE" }}')
    raise ProfileError(f'{name}: must be {{ env = "VARIABLE" }}')


def _button(reader: _Reader, key: str) -> ButtonSpec | None:
    if key not in reader.data:
        reader.used.add(key)
        return None
    section = reader.section(key)
    button = ButtonSpec(
        name=section.string("name"),
        value=section.string("value"),
        text=section.string("text"),
        selector=section.string("selector"),
    )
    section.done()
    if button == ButtonSpec():
        raise ProfileError(f"{reader._name(key)}: give name (and value), text or selector")
    if button.value is not None and button.name is None:
        raise ProfileError(f'{reader._name(key)}.name: required with value (name = "" for a button without one)')
    if button.text is not None and not button.text.strip():
        raise ProfileError(f"{reader._name(key)}.text: must not be empty")
    if button.selector is not None and not button.selector.strip():
        raise ProfileError(f"{reader._name(key)}.selector: must not be empty")
    return button


def _steps(reader: _Reader, key: str) -> tuple[BrowserStep, ...]:
    steps = []
    for step in reader.sections(key):
        action = step.string("action", choices=BROWSER_ACTIONS)
        selector = step.string("selector")
        if not action or not selector:
            raise ProfileError(f"{step.path}: action and selector are required")
        value: str | Secret | None = (
            step.secret("value") if isinstance(step.data.get("value"), dict) else step.string("value")
        )
        state = step.string("state", "attached", choices=WAIT_STATES)
        if "state" in step.data and action != "wait":
            raise ProfileError(f"{step.path}.state: only a wait step has a state")
        if action == "fill" and value is None:
            raise ProfileError(f"{step.path}.value: required by a fill step")
        steps.append(BrowserStep(action, selector, value, step.boolean("optional", False), state))
        step.done()
    return tuple(steps)


def parse_profile(data: Mapping[str, Any], source: str | None = None) -> Profile:
    root = _Reader(data, "")
    t = root.section("target")
    target = TargetSection(
        url=t.url("url"),
        issuer=t.url("issuer"),
        allow_http_loopback=t.boolean("allow_http_loopback", True),
        name=t.string("name"),
    )
    t.done()
    r = root.section("request")
    request = RequestSection(
        scope=r.string("scope"),
        resource=r.url("resource"),
        send_resource=r.boolean("send_resource", True),
        redirect_uri=r.string("redirect_uri", DEFAULT_REDIRECT_URI),
        extra_params=r.string_map("extra_params"),
        auth_method=r.string("auth_method", choices=("client_secret_basic", "client_secret_post")),
    )
    r.done()
    c = root.section("consent")
    form_reader = c.section("form")
    form = FormSection(
        fields=form_reader.string_map("fields", secrets=True),
        login=_button(form_reader, "login"),
        approve=_button(form_reader, "approve"),
        deny=_button(form_reader, "deny"),
        max_pages=form_reader.integer("max_pages", 6),
    )
    form_reader.done()
    browser_reader = c.section("browser")
    browser = BrowserSection(
        login_steps=_steps(browser_reader, "login_steps"),
        steps=_steps(browser_reader, "steps"),
        deny_steps=_steps(browser_reader, "deny_steps"),
        executable=browser_reader.string("executable", DEFAULT_CHROMIUM),
        timeout=browser_reader.number("timeout", 15.0),
    )
    browser_reader.done()
    origins = c._get("allowed_origins", list, [])
    if not all(isinstance(o, str) and o.startswith(("http://", "https://")) for o in origins):
        raise ProfileError("consent.allowed_origins: must be a list of http(s) origins")
    consent = ConsentSection(
        driver=c.string("driver", "redirect", choices=_DRIVERS),
        allowed_origins=tuple(o.rstrip("/") for o in origins),
        form=form,
        browser=browser,
        callable=c.string("callable"),
        max_redirects=c.integer("max_redirects", 12),
        deny_params=c.string_map("deny_params"),
    )
    c.done()
    if consent.driver == "python" and not consent.callable:
        raise ProfileError("consent.callable: required by the python driver (package.module:function)")
    if consent.driver == "browser" and not (consent.browser.steps or consent.browser.login_steps):
        raise ProfileError("consent.browser.steps: required by the browser driver")
    if consent.browser.timeout <= 0:
        raise ProfileError("consent.browser.timeout: must be positive")
    clients = []
    for cr in root.sections("clients"):
        client = ClientSection(
            kind=cr.string("kind", choices=("public", "confidential")) or "",
            client_id=cr.string("client_id") or "",
            client_secret=cr.secret("client_secret"),
            auth_method=cr.string("auth_method", "none", choices=_AUTH_METHODS),
            redirect_uris=_client_redirect_uris(cr),
            grant_types=cr.strings("grant_types", DEFAULT_CLIENT_GRANTS),
            scope=cr.string("scope"),
        )
        cr.done()
        if not client.kind or not client.client_id:
            raise ProfileError(f"{cr.path}: kind and client_id are required")
        if client.kind == "confidential" and (client.client_secret is None or client.auth_method == "none"):
            raise ProfileError(f"{cr.path}: a confidential client needs client_secret and a secret auth_method")
        clients.append(client)
    res = root.section("resource")
    resource = ResourceSection(
        url=res.url("url"),
        method=res.string("method", "GET", choices=("GET", "POST")),
        metadata=res.optional_boolean("metadata"),
        insufficient_scope_url=res.url("insufficient_scope_url"),
    )
    res.done()
    ck = root.section("clock")
    clock = ClockSection(
        mode=ck.string("mode", "none", choices=_CLOCK_MODES),
        hook=ck.url("hook"),
        wait_budget=ck.number("wait_budget", 0.0),
    )
    ck.done()
    if clock.mode == "hook" and not clock.hook:
        raise ProfileError("clock.hook: required when clock.mode is hook")
    p = root.section("policy")
    fetch_timeout = p._get("fetch_timeout", (int, float), None)
    if fetch_timeout is not None and fetch_timeout <= 0:
        raise ProfileError("policy.fetch_timeout: must be positive")
    policy = PolicySection(
        refresh_grace=p.boolean("refresh_grace", False),
        scope_required=p.boolean("scope_required", False),
        concurrency=p.integer("concurrency", 8),
        fetch_timeout=None if fetch_timeout is None else float(fetch_timeout),
    )
    p.done()
    fh = root.section("fixture_host")
    reachable = fh._get("reachable", bool, None)
    fixture_host = FixtureHostSection(
        enabled=fh.boolean("enabled", True),
        public_base_url=fh.url("public_base_url"),
        https=fh.boolean("https", True),
        bind=fh.string("bind", "127.0.0.1"),
        port=fh.integer("port", 0),
        reachable=reachable,
        proxied=fh.boolean("proxied", False),
    )
    fh.done()
    ij = root.section("idjag")
    idjag = IdJagSection(trusted=ij.boolean("trusted", False))
    ij.done()
    rb = root.section("robust")
    chosen = frozenset(k for k in QUICK_BUDGETS if k in rb.data)
    robust = RobustSection(
        time_budget=rb.number("time_budget", 30.0),
        max_examples=rb.integer("max_examples", int(QUICK_BUDGETS["max_examples"])),
        stateful_examples=rb.integer("stateful_examples", 12),
        stateful_steps=rb.integer("stateful_steps", 10),
        request_timeout=rb.number("request_timeout", 10.0),
        other_resource=rb.url("other_resource"),
        early_answer_wait=rb.number("early_answer_wait", QUICK_BUDGETS["early_answer_wait"]),
        chosen=chosen,
    )
    thorough = rb.boolean("thorough", False)
    rb.done()
    for name in ("time_budget", "max_examples", "stateful_examples", "stateful_steps", "request_timeout"):
        if getattr(robust, name) <= 0:
            raise ProfileError(f"robust.{name}: must be positive")
    if robust.early_answer_wait < 0:
        raise ProfileError("robust.early_answer_wait: must not be negative")
    if thorough:
        robust = robust.made_thorough()
    notes = tuple(_note(n) for n in root.sections("notes"))
    gt = root.section("gate")
    minimum = gt._get("min_coverage", (int, float), None)
    gt.done()
    if minimum is not None and not 0 <= minimum <= 100:
        raise ProfileError("gate.min_coverage: must be a percentage between 0 and 100")
    pinned = _versions(root)
    root.done()
    return Profile(
        target,
        request,
        consent,
        tuple(clients),
        resource,
        clock,
        policy,
        fixture_host,
        robust,
        idjag,
        source,
        notes,
        GateSection(None if minimum is None else float(minimum)),
        versions=pinned,
    )


def _note(reader: _Reader) -> RequirementNote:
    from oauth_conformance.catalogue import registry
    from oauth_conformance.catalogue import unknown_id_message

    ids = reader._get("ids", list, [])
    if not ids or not all(isinstance(i, str) for i in ids):
        raise ProfileError(f"{reader.path}.ids: must be a list of requirement ids")
    unknown = [i for i in ids if i not in registry()]
    if unknown:
        raise ProfileError(f"{reader.path}.ids: {unknown_id_message(unknown[0])}")
    note = RequirementNote(
        ids=tuple(ids),
        provided_by=reader.string("provided_by", choices=("fixture",)) or "",
        why=reader.string("why") or "",
    )
    reader.done()
    if not note.provided_by or not note.why:
        raise ProfileError(f"{reader.path}: provided_by and why are required")
    return note


def _versions(root: _Reader) -> tuple[tuple[str, str], ...]:
    """``[versions]``: TOKEN = "VERSION" pairs, each a version the catalogue knows."""
    from oauth_conformance.texts import SPECS
    from oauth_conformance.texts import UnknownVersion

    table = root.section("versions")
    pins = []
    for token in list(table.data):
        name = table.string(token)
        if token.upper() not in SPECS:
            raise ProfileError(f"versions.{token}: unknown spec token (known: {', '.join(SPECS)})")
        try:
            pins.append((token.upper(), SPECS[token.upper()].edition(str(name)).name))
        except UnknownVersion as exc:
            raise ProfileError(f"versions.{token}: {exc}") from None
    table.done()
    return tuple(pins)


def load_profile(path: str | Path) -> Profile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_profile(data, str(path))
    except ProfileError as exc:
        raise ProfileError(f"{path}: {exc}") from None


STARTER = """\
# oauth-conformance target profile: what the harness cannot learn from the target's URL.
# Every section is optional. Secrets are never written here: use { env = "VARIABLE" }.

[target]
# url = "https://auth.example.com"      # the authorization server (the command line wins)
# issuer = "https://auth.example.com"   # expected issuer, when it differs from the URL
allow_http_loopback = true              # an http://127.0.0.1 target: TLS rules are not_tested

[request]
# scope = "openid offline_access"       # scope asked for in authorization requests
# resource = "https://api.example.com"  # RFC 8707 resource; default: from RFC 9728 metadata
redirect_uri = "http://127.0.0.1:8976/callback"   # the test clients' redirect URI (never contacted)
# extra_params = { prompt = "consent" }
# auth_method = "client_secret_post"    # confidential clients' default method (else basic when advertised)

[consent]
# How the harness gets through the login and consent step:
#   redirect - follow redirects with a cookie jar (auto-approving test deployments)
#   form     - fill and submit the HTML login/consent forms it finds
#   browser  - drive Chromium with Playwright (pip install 'oauth-conformance[browser]')
#   python   - call your own function: callable = "package.module:function"
driver = "redirect"
# allowed_origins = ["https://login.example.com"]   # other origins the login may pass through

# The form driver: the login form gets the fields; the consent page gets the choice. A control is
# { name = "action", value = "approve" }, { text = "Allow" } (visible text), { selector = "a.cancel" }
# (CSS), or a mix; name = "" is a button without a name. Deny may be a link. Without them the
# driver goes by the words on the buttons and links. (fixtures/profiles/README.md: a worked example.)
# [consent.form]
# fields = { username = "alice", password = { env = "AS_TEST_PASSWORD" } }
# login = { text = "Sign in" }          # the login form's button, when it has more than one
# approve = { text = "Allow" }
# deny = { text = "Cancel" }            # a button or a link

# The browser driver: login_steps first, then steps (approve) or deny_steps. A wait step waits for
# its element to be attached (state = "visible" to wait until it shows); errors name the step.
# [[consent.browser.login_steps]]
# action = "fill"       # fill | click | wait | press
# selector = "#username"
# value = "alice"
# [[consent.browser.steps]]
# action = "click"
# selector = "button:has-text('Allow')"
# [[consent.browser.deny_steps]]
# action = "click"
# selector = "a:has-text('Cancel')"

# Pre-registered clients, used when the target has no registration endpoint. Name several of
# each kind: a test takes one registered with what it needs (its redirect URIs, auth method and
# grant types), two different ones where it needs two, and is not_tested, naming the entry that
# would let it run, when none fits.
# [[clients]]
# kind = "confidential"                 # public | confidential
# client_id = "conformance"
# client_secret = { env = "AS_CLIENT_SECRET" }
# auth_method = "client_secret_basic"   # none | client_secret_basic | client_secret_post
# redirect_uris = ["http://127.0.0.1:8976/callback", "http://127.0.0.1:8976/other"]
# grant_types = ["authorization_code", "refresh_token"]   # the default

[resource]
# url = "{target}/api/me"               # a protected URL that accepts the target's tokens
# insufficient_scope_url = "{target}/api/admin"  # a protected URL needing a scope the tokens lack

[clock]
mode = "none"                           # header | hook | wait | none (freeze: in-process targets only)
# hook = "{target}/__test__/clock"   # POST {"advance": seconds}; {target} is the target's URL
# wait_budget = 30                      # seconds the run may sleep to let things expire

[policy]
refresh_grace = false                   # the target documents a grace period for old refresh tokens
concurrency = 8                         # simultaneous requests in race tests
# fetch_timeout = 5                     # seconds the target gives a CIMD document fetch in all (declared)

[fixture_host]
# The harness serves client metadata documents and its test IdP's JWK Set from a loopback
# server. A target that cannot reach 127.0.0.1 needs the same content under another name:
# public_base_url = "https://fixtures.example.com"
https = true
# port = 8443                           # a fixed port, for a target configured to forward to it
# proxied = true                        # the platform sends every fetch here, whatever the address
#                                       # (miniflare's outboundService): special-use address checks are not_tested

[idjag]
trusted = false                         # true once the target trusts the test IdP (oauth-conformance fixtures)

[robust]
# The ROBUST suite and `oauth-conformance fuzz`: fuzzing, the state machine, hostile input.
time_budget = 30                        # seconds for the fuzzing (and again for the state machine)
# thorough = true                       # the long budgets (as --thorough): 50 examples, 0.25 s early-answer wait
# max_examples = 20                     # fuzzed requests per operation and generation mode (thorough: 50)
stateful_examples = 12                  # state machine programs
stateful_steps = 10                     # steps per program
request_timeout = 10                    # a request unanswered after this many seconds is a hang
# early_answer_wait = 0.05              # seconds an oversized request waits for an early refusal (thorough: 0.25)
# other_resource = "{target}/other/api" # a protected URL the run's access tokens must not reach

[gate]
# min_coverage = 90                     # percent of the testable MUSTs a run must verify; below it the
#                                       # run ends INCONCLUSIVE (exit 5), never PASSED

# Verdicts that depend on your test deployment's own code rather than the implementation under
# test (shown beside the verdict in the reports and the compare matrix):
# [[notes]]
# ids = ["OAUTH21-2.3.1-EXACT-MATCH"]
# provided_by = "fixture"
# why = "redirect URIs are matched by our application's code, which the library leaves to it"

# [versions]
# The version of a text to test instead of its newest (`oauth-conformance catalogue --versions`).
# OAUTH21 = "13"                        # what MCP 2025-11-25 cites
"""
