"""The PAR suite's fixtures (a private_key_jwt client for the audience row)."""

from oauth_conformance.support.jwt_bearer import fresh_key_client  # noqa: F401
from oauth_conformance.support.metadata_documents import documents  # noqa: F401
