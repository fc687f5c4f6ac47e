"""RFC 9126: OAuth 2.0 Pushed Authorization Requests. https://www.rfc-editor.org/rfc/rfc9126"""
