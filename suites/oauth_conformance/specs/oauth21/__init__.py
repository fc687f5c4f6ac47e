"""The OAuth 2.1 Authorization Framework, draft-ietf-oauth-v2-1-13 (the draft MCP 2025-11-25 cites).

https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13

Section numbers are those of draft -13: later drafts renumber section 7.5 (-15 has 7.5.1.1
Countermeasures, 7.5.2 Reuse of Authorization Codes, 7.5.3 HTTP 307 Redirect).
"""
