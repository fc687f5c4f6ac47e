"""RFC 7523: JSON Web Token (JWT) Profile for OAuth 2.0 Client Authentication and Authorization
Grants (with the RFC 7521 assertion framework it profiles). https://www.rfc-editor.org/rfc/rfc7523"""
