"""oauth_conformance: conformance suites for OAuth 2.1 authorization servers, as a pytest plugin.

Point it at any provider: ``oauth-conformance run https://auth.example.com`` or
``pytest --pyargs oauth_conformance --oauth-target https://auth.example.com``.
"""

from __future__ import annotations

import pytest

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.catalogue import lookup
from oauth_conformance.features import Feature
from oauth_conformance.verdicts import NotApplicable
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import Verdict
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested
from oauth_conformance.version import VERSION

__version__ = VERSION


def requirement(*ids: str) -> pytest.MarkDecorator:
    """Mark a test with the catalogue requirements it verifies (an unknown id fails at import)."""
    for rid in ids:
        lookup(rid)
    return pytest.mark.requirement(*ids)


__all__ = [
    "Feature",
    "Level",
    "NotApplicable",
    "NotTested",
    "Requirement",
    "Verdict",
    "__version__",
    "not_applicable",
    "not_tested",
    "requirement",
]
