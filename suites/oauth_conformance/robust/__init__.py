"""Robustness machinery for any target: what a provider does when its clients are wrong, random or
hostile.

- :mod:`.openapi` derives an OpenAPI 3.1 description of the target's OAuth endpoints from its
  RFC 8414 metadata;
- :mod:`.oracles` are the OAuth-aware checks applied to every fuzzed response;
- :mod:`.fuzz` drives schemathesis with that description (``oauth-conformance fuzz`` and the
  ``ROBUST-FUZZ-*`` requirements);
- :mod:`.stateful` is a hypothesis state machine over a live target (``ROBUST-STATE-*``);
- :mod:`.hostile` builds hostile requests and sends them with a bounded wait (``ROBUST-HOSTILE-*``);
- :mod:`.command` is the ``fuzz`` subcommand and its report.

The suite that uses them is ``oauth_conformance.specs.robust``.
"""
