"""OAuth Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document-01).
https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-01"""
