"""The provider's machinery, below every protocol rule: ASGI plumbing, the clock, hashing and
encryption, JOSE, outbound fetches, the stored records, the grant lifecycle and the stores.

Nothing here knows an OAuth endpoint; the protocol code in :mod:`oauth_reference.specs` builds on it.
"""
