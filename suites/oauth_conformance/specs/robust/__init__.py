"""ROBUST: how a provider behaves when its clients are wrong, random or hostile (oauth-conformance's
own requirements, tied to the RFC 6749, OAuth 2.1 and RFC 7009 sections they protect).

Three surfaces: schemathesis fuzzing from an OpenAPI description derived from the metadata
(``test_fuzz.py``, bounded by ``[robust] time_budget``), a hypothesis state machine over the
whole flow (``test_state_machine.py``), and hostile input as named requirements
(``test_hostile.py``). The machinery is in ``oauth_conformance.robust``.
"""
