"""The CIMD suite's fixtures."""

from oauth_conformance.specs.cimd.support import documents  # noqa: F401
from oauth_conformance.specs.cimd.support import proven_documents  # noqa: F401
