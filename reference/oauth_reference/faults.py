"""Faults: the few named ways to break the reference on purpose, for its known-bad twins.

A known-bad twin (``suites/tests/twins``) is the reference with one behaviour broken, run to
prove that the conformance suites catch the break. Most twins break it from outside, on the wire.
The behaviours a twin cannot reach from outside are named in :data:`FAULTS`, and a provider built
with ``OAuthProvider(..., faults=Faults(...))`` runs with the chosen ones. Nothing else can set
them: they are not options, so neither ``oauth-reference serve --config`` nor a request can.

A fault is a *switch* (chosen or not) or a *hook*: a function that the protocol code calls in
place of one of its steps, with that step as its first argument and the step's own arguments after
it; it returns what the step returns (or raises what the step raises, most simply by calling the
step on something the step refuses). The protocol code consults a switch with :meth:`Faults.on`
and runs a step through :meth:`Faults.wrap`, each at one named point.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from typing import Final
from typing import TypeVar
from typing import cast

Step = TypeVar("Step", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Fault:
    """One entry of :data:`FAULTS`: what breaks, where, and which requirements a twin breaks with it."""

    breaks: str
    where: str
    ids: tuple[str, ...]
    hook: str | None = None  # a hook's signature (after the step it wraps); None for a switch


# The one table of faults. Each names the behaviour it breaks, the module that consults it, and the
# requirement ids the twins that use it break.
FAULTS: Final[Mapping[str, Fault]] = MappingProxyType(
    {
        "redirect-uri-match": Fault(
            "matching a requested redirect URI with a registered one (exact, or a loopback port)",
            "specs/oauth21/authorization_endpoint.py",
            (
                "OAUTH21-2.3.1-EXACT-MATCH",
                "OAUTH21-8.4.2-LOOPBACK-PORT",
                "OAUTH21-4.1.1-LOCALHOST-PORT",
                "CIMD-4.5-REDIRECT-EXACT",
                "MCP-CIMD-REDIRECT-URIS",
            ),
            hook="(requested: str, registered: str) -> bool",
        ),
        "pkce-verify": Fault(
            "checking a code_verifier against the code's challenge and method",
            "specs/oauth21/code_grant.py",
            (
                "RFC7636-4.6-S256-VERIFY",
                "RFC7636-4.6-PLAIN-VERIFY",
                "RFC7636-4.5-METHOD-BOUND",
                "RFC7636-4.4-BIND",
                "RFC7636-4.2-S256-MTI",
                "OAUTH21-4.1-CODE-FLOW",
                "RFC7636-4.1-VERIFIER-SYNTAX",
                "RFC7636-4.3-DEFAULT-PLAIN",
            ),
            hook="(verifier: str, challenge: str, method: str) -> bool",
        ),
        "code-verifier-optional": Fault(
            "requiring code_verifier for a code issued with a code_challenge",
            "specs/oauth21/code_grant.py",
            ("OAUTH21-4.1.3-VERIFIER-REQUIRED",),
        ),
        "private-key-jwt-optional": Fault(
            "requiring a client assertion of a client registered for private_key_jwt",
            "specs/oauth21/client_auth.py",
            ("CIMD-6.2-PKJWT",),
        ),
        "client-assertion-verify": Fault(
            "verifying a client assertion's signature (the claims it returns are then checked)",
            "specs/oauth21/client_auth.py",
            (
                "RFC7523-2.2-CLIENT-AUTH",
                "RFC7523-3-CLIENT-SIG",
                "RFC7523-3-CLIENT-SUB",
                "RFC7523-3-CLIENT-AUD",
                "RFC7523-3-CLIENT-EXP",
            ),
            hook="(assertion: str, jwks: dict, algorithms: tuple[str, ...]) -> dict",
        ),
        "idjag-parse": Fault(
            "reading an assertion's header and claims before verifying it (a crit header is refused)",
            "specs/idjag.py",
            ("IDJAG-4.4.1-TYP", "MCP-EMA-TYP", "RFC7523-3-VALID-JWT"),
            hook="(assertion: str) -> tuple[dict, dict]",
        ),
        "idjag-verify": Fault(
            "verifying an assertion's signature (the claims it returns are then checked)",
            "specs/idjag.py",
            (
                "RFC7523-3-SIG",
                "RFC7523-3-SUB",
                "RFC7523-3-AUD",
                "RFC7523-3-EXP",
                "RFC7523-3-NBF",
                "RFC7523-3-VALID-JWT",
                "IDJAG-3.1-REQUIRED-CLAIMS",
                "IDJAG-4.4.1-AUD",
                "IDJAG-4.4.1-RFC7521",
                "IDJAG-4.4.1-CLIENT-BIND",
                "IDJAG-4.4.1-SCOPE",
                "IDJAG-4.4.1-RESOURCE",
                "IDJAG-4.4.1-RAR",
                "IDJAG-8.6.1.2.2-CNF-NO-PROOF",
                "IDJAG-8.6.1.2.1-CNF-MISMATCH",
                "MCP-EMA-AUD",
                "MCP-EMA-RFC7521",
                "MCP-EMA-CLIENT-ID",
            ),
            hook="(assertion: str, jwks: dict, algorithms: tuple[str, ...]) -> dict",
        ),
        "fetch-any-address": Fault(
            "refusing server-side fetches (documents, JWK Sets) of special-use addresses",
            "core.py",
            ("CIMD-6.5-SSRF-EMBEDDED", "CIMD-6.5-SSRF-CLIENT-ID"),
        ),
        "cimd-url-rules-unchecked": Fault(
            "refusing, unfetched, a client ID URL without a path or with dot segments, a fragment or user info",
            "specs/cimd.py",
            ("CIMD-3-URL-RULES",),
        ),
        "cimd-fetch": Fault(
            "fetching a client ID metadata document (only a 200, no redirects, bounded in size and time)",
            "specs/cimd.py",
            (
                "CIMD-4-FETCH",
                "CIMD-4-ONLY-200",
                "CIMD-4-NO-REDIRECTS",
                "CIMD-4.3-FETCH-FAIL",
                "CIMD-4.4-HTTP-CACHE",
                "CIMD-6.5-SSRF-CLIENT-ID",
                "CIMD-6.6-MAX-SIZE",
                "CIMD-4.1-JSON",
                "CIMD-4.1-CLIENT-ID-MATCH",
                "CIMD-4.1-NO-SYMMETRIC",
                "CIMD-5-METADATA",
                "CIMD-4-CODE-FLOW",
                "MCP-CIMD-CLIENT-ID",
                "MCP-CIMD-DOCUMENT",
                "CIMD-4.1-NO-PRIVATE-KEYS",
            ),
            hook="(url: str, *, limit: int, policy: FetchPolicy) -> Fetched (status, headers, body)",
        ),
        # RFC 9449 section 4.3: a proof is signed by the client's key, so no proxy can change what
        # it claims without breaking it; these two hooks are where a twin changes what the checks see.
        "dpop-proof-read": Fault(
            "reading a DPoP proof's header and claims (its signature is verified on the proof as sent)",
            "specs/rfc9449.py",
            (
                "RFC9449-4.3-TYP",
                "RFC9449-4.3-CLAIMS",
                "RFC9449-4.3-NO-PRIVATE-KEY",
                "RFC9449-4.3-HTM",
                "RFC9449-4.3-HTU",
                "RFC9449-7.1-RESOURCE-CHECKS",
                "RFC9449-11.1-LIFETIME",
                "RFC9449-8-NONCE",
                "RFC9449-5-INVALID-DPOP-PROOF",
            ),
            hook="(value: str, *, limit: int) -> tuple[dict, dict] (header, claims)",
        ),
        "dpop-proof-signature": Fault(
            "verifying a DPoP proof's signature with the key in its header (returns the key's thumbprint)",
            "specs/rfc9449.py",
            ("RFC9449-4.3-SIGNATURE",),
            hook="(value: str, jwk: dict, alg: str) -> str",
        ),
    }
)


class Faults:
    """The faults a provider runs with: none by default.

    ``Faults({"code-verifier-optional"})`` sets switches; ``Faults({"pkce-verify": hook})`` sets
    hooks (and switches, given ``True``). Names not in :data:`FAULTS`, a hook given to a switch or
    a switch to a hook raise ``ValueError`` here, at construction.
    """

    __slots__ = ("_chosen",)

    def __init__(self, chosen: Iterable[str] | Mapping[str, Callable[..., Any] | bool] = ()) -> None:
        pairs = chosen.items() if isinstance(chosen, Mapping) else ((name, True) for name in chosen)
        made: dict[str, Callable[..., Any] | bool] = {}
        for name, value in pairs:
            fault = _known(name)
            if fault.hook is None and value is not True:
                raise ValueError(f"fault {name!r} is a switch: give it as a name (or True), not a hook")
            if fault.hook is not None and not callable(value):
                raise ValueError(f"fault {name!r} is a hook: give a function {fault.hook}")
            made[name] = value
        self._chosen: Mapping[str, Callable[..., Any] | bool] = MappingProxyType(made)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._chosen)

    def on(self, name: str) -> bool:
        """Whether the switch ``name`` is chosen."""
        if _known(name).hook is not None:
            raise ValueError(f"fault {name!r} is a hook: run its step through wrap()")
        return name in self._chosen

    def wrap(self, name: str, step: Step) -> Step:
        """``step`` itself, or the chosen hook ``name`` with ``step`` as its first argument."""
        if _known(name).hook is None:
            raise ValueError(f"fault {name!r} is a switch: consult it with on()")
        hook = self._chosen.get(name)
        return step if hook is None else cast(Step, functools.partial(cast(Callable[..., Any], hook), step))

    def __bool__(self) -> bool:
        return bool(self._chosen)

    def __repr__(self) -> str:
        return f"Faults({sorted(self._chosen)!r})"


def _known(name: str) -> Fault:
    fault = FAULTS.get(name)
    if fault is None:
        hint = difflib.get_close_matches(name, list(FAULTS), n=1)
        raise ValueError(f"unknown fault {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
    return fault


NO_FAULTS: Final = Faults()
