"""OAuth error responses: one class per registered error code.

RFC 6749 section 4.1.2.1 (authorization errors) and 5.2 (token errors), RFC 6750 section 3.1
(bearer errors), RFC 7591 section 3.2.2 (registration errors), RFC 8707 section 2
(``invalid_target``) and RFC 7009 section 2.2.1. The wire code is ``error``; the HTTP status is
``status_code`` (the class default is ``status``). Raising one of these anywhere below an endpoint,
or in a callback the provider calls, produces a JSON error response
``{"error": ..., "error_description": ...}`` with ``Cache-Control: no-store``.

The base class also takes the seed library's shape, the code first:
``OAuthError("invalid_grant", description="...", status_code=400, headers={...})``; the
subclasses fix their code and take the description first: ``InvalidGrantError("...")``.

Hierarchy::

    OAuthError                         any code (the seed's shape)
    ├── InvalidRequestError            invalid_request
    ├── InvalidClientError             invalid_client (401)
    ├── InvalidGrantError              invalid_grant
    ├── UnauthorizedClientError        unauthorized_client
    ├── UnsupportedGrantTypeError      unsupported_grant_type
    ├── UnsupportedResponseTypeError   unsupported_response_type
    ├── InvalidScopeError              invalid_scope
    ├── InvalidTargetError             invalid_target
    ├── AccessDeniedError              access_denied
    ├── InvalidTokenError              invalid_token (401)
    ├── InsufficientScopeError         insufficient_scope (403)
    ├── InvalidRedirectUriError        invalid_redirect_uri
    ├── InvalidClientMetadataError     invalid_client_metadata
    ├── InvalidDpopProofError          invalid_dpop_proof (RFC 9449)
    ├── UseDpopNonceError              use_dpop_nonce (RFC 9449)
    ├── ServerError                    server_error (500)
    └── TemporarilyUnavailableError    temporarily_unavailable (503)
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

# RFC 6749 section 5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E only
# (OAUTH21-3.2.4-ERROR, OAUTH21-4.1.2.1-ERROR, RFC6750-3-ATTRIBUTE-CHARS).
_ALLOWED = frozenset(chr(c) for c in (0x20, 0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F)))


def safe_description(text: str) -> str:
    """Replace characters RFC 6749 section 5.2 forbids in ``error_description`` with ``?``."""
    return "".join(ch if ch in _ALLOWED else "?" for ch in text)


class ConfigurationError(ValueError):
    """The provider was configured with options that contradict each other or the seed's rules."""


class OAuthError(Exception):
    """An error rendered as an OAuth error response.

    ``OAuthError(code, description=None, *, status_code=None, headers=None)`` (the seed's shape:
    the code, then the description, status and headers); a subclass takes only the description
    positionally, its code being fixed. ``status`` is accepted as another name for ``status_code``.
    """

    error: str = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(
        self,
        *args: str | None,
        description: str | None = None,
        status_code: int | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        # The base class is the seed's OAuthError(code, {description, statusCode, headers}): its
        # first argument is the code. A subclass knows its code; its first argument describes.
        takes_code = type(self) is OAuthError
        if len(args) > (2 if takes_code else 1):
            raise TypeError(f"{type(self).__name__} takes at most {2 if takes_code else 1} positional arguments")
        if takes_code:
            if not args or not isinstance(args[0], str) or not _is_error_code(args[0]):
                raise ValueError("OAuthError needs an error code of printable ASCII characters (RFC 6749 section 5.2)")
            self.error = args[0]
            args = args[1:]
        if args:
            if description is not None:
                raise TypeError("the description was given twice")
            description = args[0]
        if status is not None and status_code is not None and status != status_code:
            raise TypeError("status and status_code name the same thing; give one")
        chosen = status_code if status_code is not None else status
        if chosen is not None and (not isinstance(chosen, int) or isinstance(chosen, bool) or not 400 <= chosen <= 599):
            raise ValueError("an OAuth error's status code must be an integer from 400 to 599")
        super().__init__(description or self.error)
        self.description = safe_description(description) if description else None
        self.headers: dict[str, str] = dict(headers or {})
        self.status_code = chosen if chosen is not None else self.status

    @property
    def code(self) -> str:
        """The wire ``error`` value (the seed's name for it)."""
        return self.error

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.error!r}, status_code={self.status_code}, description={self.description!r})"
        )


def _is_error_code(code: str) -> bool:
    """RFC 6749 section 5.2: ``error`` is one or more of %x20-21 / %x23-5B / %x5D-7E."""
    return bool(code) and all(ch in _ALLOWED for ch in code)


class InvalidRequestError(OAuthError):
    """The request is missing a required parameter, repeats one, or is otherwise malformed."""

    error = "invalid_request"


class InvalidClientError(OAuthError):
    """Client authentication failed (unknown client, no authentication, unsupported method)."""

    error = "invalid_client"
    status = 401


class InvalidGrantError(OAuthError):
    """The grant or refresh token is invalid, expired, revoked, or bound to another client."""

    error = "invalid_grant"


class UnauthorizedClientError(OAuthError):
    """The authenticated client may not use this grant or response type."""

    error = "unauthorized_client"


class UnsupportedGrantTypeError(OAuthError):
    """The authorization server does not support this grant type."""

    error = "unsupported_grant_type"


class UnsupportedResponseTypeError(OAuthError):
    """The authorization server does not support this response type."""

    error = "unsupported_response_type"


class InvalidScopeError(OAuthError):
    """The requested scope is invalid, unknown, malformed, or exceeds what was granted."""

    error = "invalid_scope"


class InvalidTargetError(OAuthError):
    """The requested resource is invalid or unknown (RFC 8707 section 2)."""

    error = "invalid_target"


class AccessDeniedError(OAuthError):
    """The resource owner or authorization server denied the request."""

    error = "access_denied"


class InvalidTokenError(OAuthError):
    """The access token is missing, expired, revoked or malformed (RFC 6750 section 3.1)."""

    error = "invalid_token"
    status = 401  # MCP-TOKEN-INVALID-401, RFC6750-3.1-INVALID-TOKEN


class InsufficientScopeError(OAuthError):
    """The request needs more scope than the access token carries (RFC 6750 section 3.1).

    ``scope`` names the scope the request needs; the Bearer challenge then says so.
    """

    error = "insufficient_scope"
    status = 403

    def __init__(self, *args: str | None, scope: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = list(scope) if scope else None


class InvalidRedirectUriError(OAuthError):
    """A redirect URI in a registration request is invalid (RFC 7591 section 3.2.2)."""

    error = "invalid_redirect_uri"


class InvalidClientMetadataError(OAuthError):
    """A client metadata value is invalid (RFC 7591 section 3.2.2)."""

    error = "invalid_client_metadata"


class InvalidDpopProofError(OAuthError):
    """The DPoP proof is missing where required, or invalid (RFC 9449 sections 5 and 7.1)."""

    error = "invalid_dpop_proof"


class UseDpopNonceError(OAuthError):
    """The proof lacks the nonce the server supplies, or carries a stale one (RFC 9449 sections 8 and 9)."""

    error = "use_dpop_nonce"


class ServerError(OAuthError):
    """The server met an unexpected condition."""

    error = "server_error"
    status = 500


class TemporarilyUnavailableError(OAuthError):
    """The server cannot handle the request now (its store is down or overloaded)."""

    error = "temporarily_unavailable"
    status = 503


class AuthorizationError(Exception):
    """An authorization-endpoint error raised by :func:`parse_auth_request`.

    ``redirect_to`` is set only once the client and its redirect URI have been validated
    (OAUTH21-4.1.2.1-NO-REDIRECT): only then may the error be sent back to the client. Without it,
    the application must show the error to the user and must not redirect.
    """

    def __init__(self, error: OAuthError, redirect_to: str | None = None) -> None:
        super().__init__(error.description or error.error)
        self.oauth_error = error
        self.redirect_to = redirect_to

    @property
    def code(self) -> str:
        return self.oauth_error.error

    @property
    def description(self) -> str | None:
        return self.oauth_error.description


class CimdError(Exception):
    """A client id that is a metadata-document URL names a document that cannot be used now.

    Raised by :meth:`~oauth_reference.OAuthHelpers.lookup_client` and
    :meth:`~oauth_reference.OAuthHelpers.complete_authorization` when Client ID Metadata Documents
    are on and the document cannot be fetched (the host is down, slow or refuses it; CIMD section
    4.3) or is not a valid client document. ``reason`` says which, in words safe to show and log
    (it never quotes the document). An outage of the client's host is not an unknown client: the
    application should show an error page and must not redirect to the client (its redirect URI
    cannot be confirmed); the provider's own endpoints answer ``invalid_request`` or
    ``invalid_client`` for it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
