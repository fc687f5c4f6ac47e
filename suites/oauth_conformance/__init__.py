"""oauth_conformance: conformance suites for OAuth 2.1 authorization servers, as a pytest plugin.

Point it at any provider: ``oauth-conformance run https://auth.example.com`` or
``pytest --pyargs oauth_conformance --oauth-target https://auth.example.com``.
"""

from __future__ import annotations

import pytest

from .catalogue import Level
from .catalogue import Requirement
from .features import Feature
from .verdicts import NotApplicable
from .verdicts import NotTested
from .verdicts import Verdict
from .verdicts import not_applicable
from .verdicts import not_tested

__version__ = "0.1.0"


def requirement(*ids: str) -> pytest.MarkDecorator:
    """Mark a test with the catalogue requirements it verifies (ids are checked at import)."""
    from .plugin import requirement as _requirement

    return _requirement(*ids)


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
