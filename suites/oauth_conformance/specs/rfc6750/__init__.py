"""RFC 6750: The OAuth 2.0 Authorization Framework: Bearer Token Usage. https://www.rfc-editor.org/rfc/rfc6750

Most of these rows test the protected resource the profile names (``[resource] url``), so they
apply only when one is known.
"""
