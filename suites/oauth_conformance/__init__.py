"""oauth_conformance: conformance suites for OAuth 2.1 authorization servers, as a pytest plugin."""

__version__ = "0.1.0"
