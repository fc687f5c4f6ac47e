"""ID-JAG requirements of a Resource Authorization Server, in our words. Section numbers are those
of draft-ietf-oauth-identity-assertion-authz-grant-03 (catalogue.SPECS), checked against its text:
3.1 (claims), 4.4 and 4.4.1 (the access token request and its processing rules), 4.4.3 (refresh
tokens), 7 (metadata), 8.1 (client authentication), 8.4 (metadata disclosure) and 8.6.1.2.2
(cnf without a proof). The IdP-side rows (sections 4.3 and 8.6.1.1) are not here: they need the
target to issue ID-JAGs."""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
IDJAG = Feature.IDJAG

REQUIREMENTS = (
    Requirement(
        "IDJAG-4.4-GRANT",
        MUST,
        "An advertised ID-JAG profile works: a valid ID-JAG from a trusted IdP, presented with the JWT bearer"
        " grant by the client it names, gets an OAuth token response.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.1-TYP",
        MUST,
        "The JOSE header typ must be oauth-id-jag+jwt: an ID-JAG without it, or with another typ, is refused"
        " with invalid_grant.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.1-AUD",
        MUST,
        "aud is exactly this server's issuer, as a string or a one-element array; any other aud (a longer or"
        " differently cased URL, the token endpoint, a second audience, none) is refused with invalid_grant.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.1-CLIENT-BIND",
        MUST,
        "The client_id claim must name the authenticated client; an ID-JAG for another client is refused with"
        " invalid_grant.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-3.1-REQUIRED-CLAIMS",
        MUST,
        "iss, sub, aud, client_id, jti, exp and iat are required: an ID-JAG missing any of them is refused.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.1-RFC7521",
        MUST,
        "RFC 7521 section 5.2 processing applies: an untrusted issuer, an invalid or missing signature, altered"
        " claims, an expired ID-JAG or one not yet valid is refused with invalid_grant.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.1-SCOPE",
        MUST,
        "The scope granted stays within the ID-JAG's scope claim: a request for more is refused or narrowed.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.1-RESOURCE",
        MUST,
        "The resource claim is processed per RFC 8707: a token request for a resource outside it gets no token.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.1-RESP-GRANTED",
        MUST,
        "The token response includes the granted scope and resource when the ID-JAG carried them.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.1-RAR",
        MUST,
        "An authorization_details claim is parsed as a JSON array: one that is not an array is refused.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-8.6.1.2.2-CNF-NO-PROOF",
        MUST,
        "An ID-JAG bound to a key (cnf.jkt) presented without a DPoP proof is refused with invalid_grant.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-4.4.3-NO-RT",
        SHOULD,
        "No refresh token is issued for an ID-JAG (the client presents a new ID-JAG instead).",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-8.1-CONFIDENTIAL",
        SHOULD,
        "Only confidential clients use the grant: a public client presenting a valid ID-JAG is refused.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-7-PROFILE-ADVERTISED",
        SHOULD,
        "A server that accepts ID-JAGs lists urn:ietf:params:oauth:grant-profile:id-jag in"
        " authorization_grant_profiles_supported.",
    ),
    Requirement(
        "IDJAG-7-GRANT-TYPE",
        MUST,
        "A server listing the ID-JAG profile also lists the JWT bearer grant in grant_types_supported.",
        applies_if=IDJAG,
    ),
    Requirement(
        "IDJAG-7-PROFILES-ARRAY",
        MUST,
        "authorization_grant_profiles_supported, when present, is a JSON array of strings.",
    ),
    Requirement(
        "IDJAG-8.4-NO-DISCLOSE",
        MUST,
        "authorization_grant_profiles_supported names profiles only: no trusted issuers or other trust"
        " relationships are disclosed through it.",
    ),
)
