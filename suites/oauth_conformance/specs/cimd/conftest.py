"""The CIMD suite's fixtures."""

from oauth_conformance.support.metadata_documents import documents  # noqa: F401
from oauth_conformance.support.metadata_documents import proven_documents  # noqa: F401
