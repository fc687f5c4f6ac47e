"""The provider's options: the seed library's options in snake_case, with its defaults.

Where an option of the seed has no Python spelling (``undefined``), ``None`` takes its place:
``refresh_token_ttl=None`` and ``client_registration_ttl=None`` mean "never expires".
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

from oauth_reference.error_hook import OnErrorHook
from oauth_reference.errors import ConfigurationError
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.jose import ASYMMETRIC
from oauth_reference.machinery.jose import JwksCache
from oauth_reference.machinery.jose import public_jwks_problem
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.specs.oauth21.scopes import is_scope_token

if TYPE_CHECKING:
    from starlette.requests import Request as StarletteRequest

DAY = 86_400
# OAuth 2.1 section 4.1.2: a maximum lifetime of 10 minutes is RECOMMENDED (OAUTH21-4.1.2-CODE-TTL-10MIN).
AUTHORIZATION_CODE_TTL = 600
# Body limits (413): ROBUST-HOSTILE-BIG-BODY; a registration of 50,000 redirect URIs or 100,000 members
# does not fit (ROBUST-HOSTILE-HUGE-JSON, ROBUST-HOSTILE-REGISTRATION-LIMITS), nor does a 64 KiB token
# parameter (ROBUST-HOSTILE-LONG-VALUES).
REGISTRATION_BODY_LIMIT = 1 << 20
TOKEN_BODY_LIMIT = 64 << 10
# A server-side fetch held longer than this holds an authorization request past what a user waits for.
MAX_FETCH_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class ResourceMetadata:
    """RFC 9728 protected resource metadata for the resource this provider guards.

    ``resource`` may be an absolute URL or a path (``/api``) resolved against the issuer; by
    default it is the issuer's origin, as in the seed.
    """

    resource: str | None = None
    authorization_servers: tuple[str, ...] | None = None
    scopes_supported: tuple[str, ...] | None = None
    bearer_methods_supported: tuple[str, ...] = ("header",)
    resource_name: str | None = None

    @classmethod
    def coerce(cls, value: ResourceMetadata | Mapping[str, Any] | None) -> ResourceMetadata:
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise ConfigurationError("resource_metadata must be a mapping")
        known = {
            "resource",
            "authorization_servers",
            "scopes_supported",
            "bearer_methods_supported",
            "resource_name",
        }
        unknown = set(value) - known
        if unknown:
            raise ConfigurationError(f"resource_metadata has unknown fields: {', '.join(sorted(unknown))}")
        args: dict[str, Any] = dict(value)
        for name in ("authorization_servers", "scopes_supported", "bearer_methods_supported"):
            if name in args and args[name] is not None:
                args[name] = tuple(args[name])
        return cls(**args)


TokenExchangeCallback = Callable[[Any], Awaitable[Any] | Any]
ExternalTokenResolver = Callable[[Any], Awaitable[Any] | Any]
RegistrationCallback = Callable[[Any], Awaitable[Any] | Any]


# ------------------------------------------------------------------ ID-JAG (enterprise_managed_authorization)
@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An IdP whose ID-JAGs this server accepts."""

    issuer: str
    jwks_uri: str | None = None
    jwks: Mapping[str, Any] | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    audience: str | None = None  # default: this server's issuer

    def __post_init__(self) -> None:
        if (self.jwks_uri is None) == (self.jwks is None):
            raise ConfigurationError(f"trusted issuer {self.issuer}: give exactly one of jwks_uri and jwks")
        if self.jwks is not None and public_jwks_problem(dict(self.jwks)):
            raise ConfigurationError(f"trusted issuer {self.issuer}: {public_jwks_problem(dict(self.jwks))}")
        bad = [a for a in self.algorithms if a not in ASYMMETRIC]
        if bad:
            raise ConfigurationError(f"trusted issuer {self.issuer}: algorithms {bad} are not allowed")


@dataclass(frozen=True, slots=True)
class TrustedIssuerQuery:
    """What a ``trusted_issuers`` function receives (the seed's resolver input, without ``env``).

    ``iss`` is the assertion's unverified issuer: a key to look the IdP up by, nothing more; the
    signature is checked against the keys of the issuer returned. ``client`` is the authenticated
    client presenting the assertion and ``request`` the token request (a Starlette ``Request``
    whose body was already read), for multi-tenant lookups by client or host.
    """

    iss: str
    client: ClientInfo
    request: StarletteRequest


@dataclass(frozen=True, slots=True)
class IdJagClaims:
    """What the claims mapper receives: the verified claims and their context."""

    claims: Mapping[str, Any]
    client_id: str
    requested_scope: list[str]
    resource: str
    client: ClientInfo | None = None  # the authenticated client presenting the assertion
    request: StarletteRequest | None = None  # the token request (its body already read)


@dataclass(frozen=True, slots=True)
class MappedGrant:
    """What the claims mapper returns: who the grant is for and what it carries.

    ``access_token_ttl`` (seconds) overrides the lifetime of this one access token; by default it is
    the option's ``access_token_ttl``, else the provider's.
    """

    user_id: str
    scope: list[str]
    props: Any
    metadata: Any = None
    access_token_ttl: int | None = None


ClaimsMapper = Callable[[IdJagClaims], "MappedGrant | Awaitable[MappedGrant | None] | None"]
IssuerResolver = Callable[[TrustedIssuerQuery], "TrustedIssuer | Awaitable[TrustedIssuer | None] | None"]


def default_mapping(data: IdJagClaims) -> MappedGrant:
    """User ``idjag.<sub>`` (percent-encoded), the requested scope, and the IdP's identity as props."""
    claims = data.claims
    props = {k: claims[k] for k in ("iss", "sub", "email", "name") if k in claims}
    return MappedGrant(user_id="idjag." + quote(str(claims["sub"]), safe=""), scope=data.requested_scope, props=props)


@dataclass(frozen=True, slots=True)
class EnterpriseManagedAuthorization:
    trusted_issuers: tuple[TrustedIssuer, ...] | IssuerResolver = ()
    map_claims: ClaimsMapper = default_mapping
    jwks_cache_ttl: int = 300
    clock_skew: int = 60
    max_assertion_lifetime: int = 300
    allow_public_clients: bool = False
    access_token_ttl: int | None = None
    _cache: JwksCache = field(default_factory=JwksCache, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The issuers' key sets are kept for jwks_cache_ttl seconds (frozen: set through object).
        object.__setattr__(self, "_cache", JwksCache(ttl=float(self.jwks_cache_ttl)))

    @classmethod
    def coerce(cls, value: object) -> EnterpriseManagedAuthorization | None:
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise ConfigurationError("enterprise_managed_authorization must be a table of options")
        args = dict(value)
        issuers = args.pop("trusted_issuers", [])
        if isinstance(issuers, list):
            made = []
            for entry in issuers:
                if not isinstance(entry, Mapping) or "issuer" not in entry:
                    raise ConfigurationError("every trusted issuer needs an issuer")
                entry = dict(entry)
                if "algorithms" in entry:
                    entry["algorithms"] = tuple(entry["algorithms"])
                made.append(TrustedIssuer(**entry))
            args["trusted_issuers"] = tuple(made)
        else:
            args["trusted_issuers"] = issuers
        try:
            return cls(**args)
        except TypeError as exc:
            raise ConfigurationError(f"enterprise_managed_authorization: {exc}") from None

    async def issuer(self, query: TrustedIssuerQuery) -> TrustedIssuer | None:
        """The trusted issuer named ``query.iss``; a resolver's answer counts only for that issuer."""
        iss = query.iss
        if callable(self.trusted_issuers):
            found = self.trusted_issuers(query)
            if inspect.isawaitable(found):
                found = await found
            return found if isinstance(found, TrustedIssuer) and found.issuer == iss else None
        return next((t for t in self.trusted_issuers if t.issuer == iss), None)


@dataclass(frozen=True, slots=True)
class ProviderOptions:
    """All options of :class:`~oauth_reference.OAuthProvider`; see ``reference/README.md``."""

    default_handler: ASGIApp
    authorize_endpoint: str
    token_endpoint: str
    api_route: str | Sequence[str] | None = None
    api_handler: ASGIApp | None = None
    api_handlers: Mapping[str, ASGIApp] | None = None
    client_registration_endpoint: str | None = None
    scopes_supported: Sequence[str] | None = None
    allow_implicit_flow: bool = False
    allow_plain_pkce: bool = True
    disallow_public_client_registration: bool = False
    refresh_token_ttl: int | None = 30 * DAY
    access_token_ttl: int = 3600
    client_registration_ttl: int | None = 90 * DAY
    resource_metadata: ResourceMetadata = field(default_factory=ResourceMetadata)
    allow_token_exchange_grant: bool = False
    token_exchange_callback: TokenExchangeCallback | None = None
    enterprise_managed_authorization: EnterpriseManagedAuthorization | None = None
    client_id_metadata_document_enabled: bool = False
    # Deviation switch: the seed keeps the previous refresh token valid until its successor is
    # used; OAuth 2.1 section 4.3.1 does not. Off by default (strict rotation).
    refresh_token_grace: bool = False
    issuer: str | None = None
    allowed_hosts: Sequence[str] | None = None  # see hosts.py
    on_error: OnErrorHook | None = None  # see error_hook.py
    # Decrypted props of this many recently checked access tokens kept in the process
    # (machinery/props_cache.py); every check still reads the token's record from the store.
    props_cache_size: int = 4096
    resolve_external_token: ExternalTokenResolver | None = None  # see external_tokens.py
    client_registration_callback: RegistrationCallback | None = None  # see registration_callback.py
    # The seed's migration switch: at the token endpoint a requested resource matches a granted
    # one when their origins do (RFC 8707 wants the resource itself or one below it).
    resource_match_origin_only: bool = False
    # RFC 7662: token introspection at this path (or URL); off when None.
    introspection_endpoint: str | None = None
    # RFC 9449: DPoP proofs at the token endpoint and the API routes, DPoP-bound tokens; with
    # dpop_nonce, proofs must carry a nonce the server supplied (sections 8 and 9).
    dpop_enabled: bool = False
    dpop_nonce: bool = False
    # RFC 9126: pushed authorization requests at this path (or URL); off when None. With
    # require_pushed_authorization_requests, the authorization endpoint takes nothing else.
    pushed_authorization_request_endpoint: str | None = None
    require_pushed_authorization_requests: bool = False
    pushed_authorization_request_ttl: int = 60
    # Seconds a server-side fetch (a client ID metadata document, a JWK Set) may take in all
    # before it counts as failed (CIMD section 4.3): a document that trickles in is given up.
    fetch_timeout: float = 5.0

    def __post_init__(self) -> None:
        check_options(self)

    @property
    def routes(self) -> dict[str, ASGIApp]:
        """API route prefix -> handler, whichever style was configured."""
        if self.api_handlers is not None:
            return dict(self.api_handlers)
        assert self.api_handler is not None
        routes = [self.api_route] if isinstance(self.api_route, str) else list(self.api_route or [])
        return dict.fromkeys(routes, self.api_handler)

    @property
    def refresh_tokens_enabled(self) -> bool:
        return self.refresh_token_ttl != 0


def _endpoint(name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.startswith(("/", "http://", "https://")):
        raise ConfigurationError(f"{name} must be a path starting with / or an absolute http(s) URL")


def _ttl(name: str, value: object, *, allow_none: bool, allow_zero: bool) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigurationError(f"{name} must be an integer number of seconds")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(f"{name} must be {'0 or ' if allow_zero else ''}a positive number of seconds")


def check_options(o: ProviderOptions) -> None:
    single = o.api_route is not None or o.api_handler is not None
    if single and o.api_handlers is not None:
        raise ConfigurationError("use either api_route with api_handler, or api_handlers, not both")
    if o.api_handlers is None:
        if o.api_route is None or o.api_handler is None:
            raise ConfigurationError("api_route and api_handler must be given together (or use api_handlers)")
        routes = [o.api_route] if isinstance(o.api_route, str) else list(o.api_route)
        if not routes:
            raise ConfigurationError("api_route must name at least one route")
    else:
        if not o.api_handlers:
            raise ConfigurationError("api_handlers must name at least one route")
        routes = list(o.api_handlers)
    for route in routes:
        _endpoint("every API route", route)
    if o.default_handler is None:
        raise ConfigurationError("default_handler is required")
    _endpoint("authorize_endpoint", o.authorize_endpoint)
    _endpoint("token_endpoint", o.token_endpoint)
    _endpoint("client_registration_endpoint", o.client_registration_endpoint, optional=True)
    _endpoint("introspection_endpoint", o.introspection_endpoint, optional=True)
    _endpoint("pushed_authorization_request_endpoint", o.pushed_authorization_request_endpoint, optional=True)
    _ttl("pushed_authorization_request_ttl", o.pushed_authorization_request_ttl, allow_none=False, allow_zero=False)
    if o.require_pushed_authorization_requests and o.pushed_authorization_request_endpoint is None:
        raise ConfigurationError("require_pushed_authorization_requests needs pushed_authorization_request_endpoint")
    if o.dpop_nonce and not o.dpop_enabled:
        raise ConfigurationError("dpop_nonce needs dpop_enabled")
    _ttl("access_token_ttl", o.access_token_ttl, allow_none=False, allow_zero=False)
    if isinstance(o.props_cache_size, bool) or not isinstance(o.props_cache_size, int) or o.props_cache_size < 0:
        raise ConfigurationError("props_cache_size must be a whole number, 0 or more (0: no cache)")
    _ttl("refresh_token_ttl", o.refresh_token_ttl, allow_none=True, allow_zero=True)
    _ttl("client_registration_ttl", o.client_registration_ttl, allow_none=True, allow_zero=False)
    if o.scopes_supported is not None:
        scopes = list(o.scopes_supported)
        if isinstance(o.scopes_supported, str) or not scopes:
            raise ConfigurationError("scopes_supported must be a non-empty list of scope tokens")
        bad = [s for s in scopes if not isinstance(s, str) or not is_scope_token(s)]
        if bad:
            raise ConfigurationError(f"scopes_supported has malformed scope tokens: {bad!r}")
        if len(set(scopes)) != len(scopes):
            raise ConfigurationError("scopes_supported must not repeat a scope")
    if o.issuer is not None:
        _endpoint("issuer", o.issuer)
        if not o.issuer.startswith(("http://", "https://")) or "?" in o.issuer or "#" in o.issuer:
            raise ConfigurationError("issuer must be an absolute http(s) URL without query or fragment")
        if urlsplit(o.issuer).path not in ("", "/"):
            # The provider serves its metadata and endpoints at the root of its host, so an issuer
            # with a path would advertise URLs nothing answers (RFC8414-3-WELLKNOWN).
            raise ConfigurationError("issuer must be an origin (https://host[:port]), without a path")
    for flag in (
        "allow_implicit_flow",
        "allow_plain_pkce",
        "disallow_public_client_registration",
        "allow_token_exchange_grant",
        "client_id_metadata_document_enabled",
        "refresh_token_grace",
        "resource_match_origin_only",
        "dpop_enabled",
        "dpop_nonce",
        "require_pushed_authorization_requests",
    ):
        if not isinstance(getattr(o, flag), bool):
            raise ConfigurationError(f"{flag} must be true or false")
    if o.token_exchange_callback is not None and not callable(o.token_exchange_callback):
        raise ConfigurationError("token_exchange_callback must be callable")
    for hook in ("on_error", "resolve_external_token", "client_registration_callback"):
        if getattr(o, hook) is not None and not callable(getattr(o, hook)):
            raise ConfigurationError(f"{hook} must be callable")
    timeout = o.fetch_timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_FETCH_TIMEOUT:
        raise ConfigurationError(f"fetch_timeout must be a number of seconds above 0 and at most {MAX_FETCH_TIMEOUT:g}")
    if o.allowed_hosts is not None and (isinstance(o.allowed_hosts, str) or not list(o.allowed_hosts)):
        raise ConfigurationError("allowed_hosts must be a non-empty list of hosts or origins")
    ema = o.enterprise_managed_authorization
    if ema is not None and not isinstance(ema, EnterpriseManagedAuthorization):
        raise ConfigurationError("enterprise_managed_authorization must be EnterpriseManagedAuthorization options")
    rm = o.resource_metadata
    if rm.bearer_methods_supported and set(rm.bearer_methods_supported) - {"header"}:
        raise ConfigurationError("the provider reads bearer tokens from the Authorization header only")
