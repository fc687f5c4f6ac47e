"""Identity Assertion JWT Authorization Grant (draft-ietf-oauth-identity-assertion-authz-grant-03),
the Resource Authorization Server side.
https://datatracker.ietf.org/doc/html/draft-ietf-oauth-identity-assertion-authz-grant-03"""
