"""RFC 7636: Proof Key for Code Exchange by OAuth Public Clients (PKCE).

https://www.rfc-editor.org/rfc/rfc7636
"""
