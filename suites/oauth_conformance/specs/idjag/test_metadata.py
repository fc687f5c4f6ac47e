"""ID-JAG sections 7 and 8.4: what the metadata says about the profile, and what it must not say."""

from __future__ import annotations

from oauth_conformance import requirement
from oauth_conformance.support.jwt_bearer import JWT_BEARER
from oauth_conformance.support.jwt_bearer import JwtBearer
from oauth_conformance.support.jwt_bearer import granted
from oauth_conformance.target import IDJAG_PROFILE
from oauth_conformance.target import Target
from oauth_conformance.verdicts import not_applicable

MEMBER = "authorization_grant_profiles_supported"


@requirement("IDJAG-7-PROFILE-ADVERTISED")
def test_a_server_that_accepts_id_jags_advertises_the_profile(fresh_bearer: JwtBearer) -> None:
    granted(fresh_bearer.present(fresh_bearer.mint(typ="oauth-id-jag+jwt")), "IDJAG-4.4-GRANT")
    profiles = fresh_bearer.target.metadata.get(MEMBER)
    assert isinstance(profiles, list) and IDJAG_PROFILE in profiles, (
        f"the server accepts ID-JAGs but {MEMBER} is {profiles!r}"
    )


@requirement("IDJAG-7-GRANT-TYPE")
def test_the_id_jag_profile_comes_with_the_jwt_bearer_grant(target: Target) -> None:
    grants = target.metadata.get("grant_types_supported")
    assert isinstance(grants, list) and JWT_BEARER in grants, (
        f"the ID-JAG profile is advertised but grant_types_supported is {grants!r}"
    )


@requirement("IDJAG-7-PROFILES-ARRAY")
def test_grant_profiles_are_a_json_array_of_strings(target: Target) -> None:
    if MEMBER not in target.metadata:
        not_applicable(f"the metadata has no {MEMBER}")
    profiles = target.metadata[MEMBER]
    assert isinstance(profiles, list), f"{MEMBER} is {type(profiles).__name__}, not an array"
    assert all(isinstance(p, str) for p in profiles), f"{MEMBER} holds values that are not strings: {profiles!r}"


@requirement("IDJAG-8.4-NO-DISCLOSE")
def test_grant_profiles_disclose_no_trust_relationships(target: Target) -> None:
    if MEMBER not in target.metadata:
        not_applicable(f"the metadata has no {MEMBER}")
    profiles = target.metadata[MEMBER]
    values = profiles if isinstance(profiles, list) else [profiles]
    disclosed = [v for v in values if not isinstance(v, str) or not v.startswith("urn:")]
    assert not disclosed, f"{MEMBER} holds values that are not profile identifiers: {disclosed!r}"
