"""RFC 7591: OAuth 2.0 Dynamic Client Registration Protocol. https://www.rfc-editor.org/rfc/rfc7591"""
