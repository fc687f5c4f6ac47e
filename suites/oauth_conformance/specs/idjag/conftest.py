"""The ID-JAG suite's fixtures."""

from oauth_conformance.specs.rfc7523.support import bearer  # noqa: F401
from oauth_conformance.specs.rfc7523.support import fresh_bearer  # noqa: F401
