"""OAuth 2.1 (draft-ietf-oauth-v2-1): the authorization endpoint's logic, the token endpoint and
its code and refresh grants, client authentication, and the redirect URI and scope rules."""
