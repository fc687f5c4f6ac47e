"""The installed distribution's version: pyproject.toml is its one source."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version

try:
    VERSION = version("oauth-conformance")
except PackageNotFoundError:  # imported from a source tree that was never installed
    VERSION = "0+unknown"
