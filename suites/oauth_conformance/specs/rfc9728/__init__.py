"""RFC 9728: OAuth 2.0 Protected Resource Metadata. https://www.rfc-editor.org/rfc/rfc9728"""
