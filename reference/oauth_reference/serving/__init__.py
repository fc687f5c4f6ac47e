"""Serving the reference: the ``oauth-reference`` command, the uvicorn server, the bundled demo
application (login and consent pages), test mode and the self-check. A library user who wraps
their own application needs none of it."""
