"""Helpers for the ID-JAG suite: scopes to grant and to exceed, and the known resource."""

from __future__ import annotations

from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested

STRUCTURAL_SCOPES = ("openid", "offline_access")


def listed_scopes(target: Target) -> list[str]:
    value = target.metadata.get("scopes_supported")
    return [s for s in value if isinstance(s, str) and s not in STRUCTURAL_SCOPES] if isinstance(value, list) else []


def scopes(target: Target) -> tuple[list[str], str]:
    """A scope for the ID-JAG (the profile's, else one the server lists) and one it does not carry."""
    granted = (target.profile.request.scope or "").split()
    listed = listed_scopes(target)
    if not granted:
        granted = listed[:1] or ["oauth-conformance.read"]
    extra = next((s for s in listed if s not in granted), "oauth-conformance.write")
    return granted, extra


def known_resource(oauth: OAuth) -> str:
    resource = oauth.resource
    if resource is None:
        raise NotTested("no protected resource is known to put in the ID-JAG", unlock="[request] resource")
    return resource
