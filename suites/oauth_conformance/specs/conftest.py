"""Makes the harness's fixtures available to the suites (and only to them)."""

from oauth_conformance.fixtures import _applicability  # noqa: F401
from oauth_conformance.fixtures import clients  # noqa: F401
from oauth_conformance.fixtures import clock  # noqa: F401
from oauth_conformance.fixtures import consent_browser  # noqa: F401
from oauth_conformance.fixtures import driver  # noqa: F401
from oauth_conformance.fixtures import finding  # noqa: F401
from oauth_conformance.fixtures import fixture_host  # noqa: F401
from oauth_conformance.fixtures import http  # noqa: F401
from oauth_conformance.fixtures import oauth  # noqa: F401
from oauth_conformance.fixtures import recorder  # noqa: F401
from oauth_conformance.fixtures import target  # noqa: F401
