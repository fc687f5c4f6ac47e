"""The RFC 7523 suite's fixtures."""

from oauth_conformance.specs.cimd.support import documents  # noqa: F401
from oauth_conformance.specs.rfc7523.support import bearer  # noqa: F401
from oauth_conformance.specs.rfc7523.support import fresh_bearer  # noqa: F401
from oauth_conformance.specs.rfc7523.support import fresh_key_client  # noqa: F401
from oauth_conformance.specs.rfc7523.support import key_client  # noqa: F401
