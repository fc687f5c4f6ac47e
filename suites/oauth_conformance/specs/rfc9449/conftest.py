"""The DPoP suite's fixtures (DPoP a target offers without advertising it is found by the feature
probes, support/probes.py)."""

from __future__ import annotations

import pytest

from oauth_conformance.support.dpop import DPoP
from oauth_conformance.support.flows import OAuth


@pytest.fixture
def dpop(oauth: OAuth) -> DPoP:
    return DPoP(oauth)
