"""RFC 7009: OAuth 2.0 Token Revocation. https://www.rfc-editor.org/rfc/rfc7009"""
