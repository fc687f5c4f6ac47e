"""RFC 9207: OAuth 2.0 Authorization Server Issuer Identification. https://www.rfc-editor.org/rfc/rfc9207"""
