"""The OAuth 2.1 suite's fixtures (a private_key_jwt client for section 2.4's aud row)."""

from oauth_conformance.support.jwt_bearer import fresh_key_client  # noqa: F401
from oauth_conformance.support.metadata_documents import documents  # noqa: F401
