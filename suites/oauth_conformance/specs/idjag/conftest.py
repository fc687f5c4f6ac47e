"""The ID-JAG suite's fixtures."""

from oauth_conformance.support.jwt_bearer import bearer  # noqa: F401
from oauth_conformance.support.jwt_bearer import fresh_bearer  # noqa: F401
