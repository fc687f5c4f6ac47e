"""The protocol, one module (or package) per spec token, named as in the requirement ids.

``oauth21`` holds the OAuth 2.1 core (authorization and token endpoints, the code and refresh
grants, client authentication, redirect URI and scope rules); each other module is one RFC or
draft: ``rfc8414`` (server metadata), ``rfc7591`` (registration), ``rfc7636`` (PKCE), ``rfc6750``
(bearer tokens on API routes), ``rfc7009`` (revocation), ``rfc8707`` (resource indicators),
``rfc9728`` (protected resource metadata), ``rfc8693`` (token exchange), ``idjag`` (the ID-JAG
grant) and ``cimd`` (client ID metadata documents). ``git grep OAUTH21-4.1.3-CODE-ONCE`` finds the
lines that implement a requirement.
"""
