"""The RFC 8693 suite's fixtures."""

from oauth_conformance.specs.rfc8693.support import exchanger  # noqa: F401
from oauth_conformance.specs.rfc8693.support import fresh_exchanger  # noqa: F401
