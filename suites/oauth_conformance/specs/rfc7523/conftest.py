"""The RFC 7523 suite's fixtures."""

from oauth_conformance.support.jwt_bearer import bearer  # noqa: F401
from oauth_conformance.support.jwt_bearer import fresh_bearer  # noqa: F401
from oauth_conformance.support.jwt_bearer import fresh_key_client  # noqa: F401
from oauth_conformance.support.jwt_bearer import key_client  # noqa: F401
from oauth_conformance.support.metadata_documents import documents  # noqa: F401
