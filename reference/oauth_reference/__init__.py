"""oauth_reference: a Python counterpart of ``@cloudflare/workers-oauth-provider`` 0.8.

An OAuth 2.1 authorization server with PKCE that wraps an ASGI application. See
``reference/README.md`` for the options, the helpers, the storage schema and where this
implementation follows the standards rather than the library.
"""

from __future__ import annotations

from oauth_reference.callbacks import GrantType
from oauth_reference.callbacks import TokenExchangeCallbackOptions
from oauth_reference.callbacks import TokenExchangeCallbackResult
from oauth_reference.error_hook import ErrorEvent
from oauth_reference.errors import AccessDeniedError
from oauth_reference.errors import AuthorizationError
from oauth_reference.errors import CimdError
from oauth_reference.errors import ConfigurationError
from oauth_reference.errors import InsufficientScopeError
from oauth_reference.errors import InvalidClientError
from oauth_reference.errors import InvalidClientMetadataError
from oauth_reference.errors import InvalidDpopProofError
from oauth_reference.errors import InvalidGrantError
from oauth_reference.errors import InvalidRedirectUriError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import InvalidScopeError
from oauth_reference.errors import InvalidTargetError
from oauth_reference.errors import InvalidTokenError
from oauth_reference.errors import OAuthError
from oauth_reference.errors import ServerError
from oauth_reference.errors import TemporarilyUnavailableError
from oauth_reference.errors import UnauthorizedClientError
from oauth_reference.errors import UnsupportedGrantTypeError
from oauth_reference.errors import UnsupportedResponseTypeError
from oauth_reference.errors import UseDpopNonceError
from oauth_reference.external_tokens import ResolveExternalTokenInput
from oauth_reference.external_tokens import ResolveExternalTokenResult
from oauth_reference.helpers import CompletedAuthorization
from oauth_reference.helpers import OAuthHelpers
from oauth_reference.machinery.clock import Clock
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.records import AuthRequest
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.records import GrantSummary
from oauth_reference.machinery.records import ListResult
from oauth_reference.machinery.records import TokenSummary
from oauth_reference.options import EnterpriseManagedAuthorization
from oauth_reference.options import IdJagClaims
from oauth_reference.options import MappedGrant
from oauth_reference.options import ProviderOptions
from oauth_reference.options import ResourceMetadata
from oauth_reference.options import TrustedIssuer
from oauth_reference.options import TrustedIssuerQuery
from oauth_reference.provider import OAuthProvider
from oauth_reference.provider import api_context
from oauth_reference.provider import oauth_error_handler
from oauth_reference.provider import provider_helpers
from oauth_reference.purge import PurgeResult
from oauth_reference.registration_callback import ClientRegistrationCallbackOptions
from oauth_reference.registration_callback import ClientRegistrationCallbackResult
from oauth_reference.specs.rfc6750 import ApiContext
from oauth_reference.version import VERSION

__version__ = VERSION

__all__ = [
    "AccessDeniedError",
    "ApiContext",
    "AuthRequest",
    "AuthorizationError",
    "CimdError",
    "ClientInfo",
    "ClientRegistrationCallbackOptions",
    "ClientRegistrationCallbackResult",
    "Clock",
    "CompletedAuthorization",
    "ConfigurationError",
    "EnterpriseManagedAuthorization",
    "ErrorEvent",
    "GrantSummary",
    "GrantType",
    "IdJagClaims",
    "InsufficientScopeError",
    "InvalidClientError",
    "InvalidClientMetadataError",
    "InvalidDpopProofError",
    "InvalidGrantError",
    "InvalidRedirectUriError",
    "InvalidRequestError",
    "InvalidScopeError",
    "InvalidTargetError",
    "InvalidTokenError",
    "ListResult",
    "MappedGrant",
    "OAuthError",
    "OAuthHelpers",
    "OAuthProvider",
    "OffsetClock",
    "ProviderOptions",
    "PurgeResult",
    "ResolveExternalTokenInput",
    "ResolveExternalTokenResult",
    "ResourceMetadata",
    "ServerError",
    "SystemClock",
    "TemporarilyUnavailableError",
    "TokenExchangeCallbackOptions",
    "TokenExchangeCallbackResult",
    "TokenSummary",
    "TrustedIssuer",
    "TrustedIssuerQuery",
    "UnauthorizedClientError",
    "UnsupportedGrantTypeError",
    "UnsupportedResponseTypeError",
    "UseDpopNonceError",
    "__version__",
    "api_context",
    "oauth_error_handler",
    "provider_helpers",
]
