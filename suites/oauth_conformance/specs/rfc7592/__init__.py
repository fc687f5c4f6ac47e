"""RFC 7592: OAuth 2.0 Dynamic Client Registration Management Protocol. https://www.rfc-editor.org/rfc/rfc7592"""
