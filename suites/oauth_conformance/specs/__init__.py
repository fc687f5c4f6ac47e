"""The conformance suites: one package per spec token (``rfc8414``, ``oauth21``, ...)."""
