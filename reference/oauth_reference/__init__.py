"""oauth_reference: a Python counterpart of ``@cloudflare/workers-oauth-provider`` 0.8.

An OAuth 2.1 authorization server with PKCE that wraps an ASGI application. See
``reference/README.md`` for the options, the helpers, the storage schema and where this
implementation follows the standards rather than the library.
"""

from __future__ import annotations

from .callbacks import TokenExchangeCallbackOptions
from .callbacks import TokenExchangeCallbackResult
from .clock import Clock
from .clock import OffsetClock
from .clock import SystemClock
from .error_hook import ErrorEvent
from .errors import AuthorizationError
from .errors import ConfigurationError
from .errors import OAuthError
from .helpers import CompletedAuthorization
from .helpers import OAuthHelpers
from .options import ProviderOptions
from .options import ResourceMetadata
from .provider import OAuthProvider
from .provider import api_context
from .provider import provider_helpers
from .records import AuthRequest
from .records import ClientInfo
from .records import GrantSummary
from .records import ListResult
from .records import TokenSummary
from .rfc6750 import ApiContext

__version__ = "0.1.0"

__all__ = [
    "ApiContext",
    "AuthRequest",
    "AuthorizationError",
    "ClientInfo",
    "Clock",
    "CompletedAuthorization",
    "ConfigurationError",
    "ErrorEvent",
    "GrantSummary",
    "ListResult",
    "OAuthError",
    "OAuthHelpers",
    "OAuthProvider",
    "OffsetClock",
    "ProviderOptions",
    "ResourceMetadata",
    "SystemClock",
    "TokenExchangeCallbackOptions",
    "TokenExchangeCallbackResult",
    "TokenSummary",
    "__version__",
    "api_context",
    "provider_helpers",
]
