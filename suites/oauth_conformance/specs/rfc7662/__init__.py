"""RFC 7662: OAuth 2.0 Token Introspection. https://www.rfc-editor.org/rfc/rfc7662"""
