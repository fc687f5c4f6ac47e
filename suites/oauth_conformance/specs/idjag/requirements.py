"""ID-JAG requirements of a Resource Authorization Server, in our words.

Ids carry the sections of draft-ietf-oauth-identity-assertion-authz-grant-03, where the rows were
defined: 3.1 (claims), 4.4 and 4.4.1 (the access token request and its processing rules), 4.4.3
(refresh tokens), 7 (metadata), 8.1 (client authentication), 8.4 (metadata disclosure) and
8.6.1.2 (proof of possession: a cnf without a proof, a proof for another key, a proof without a
cnf). Draft -04 moved the security considerations to 9 (8.6 became 9.8) and split the metadata
into 7.1 (IdP) and 7.2 (Resource Authorization Server); the readings record where. The IdP-side
rows (sections 4.3 and 8.6.1.1) are not here: they need the target to issue ID-JAGs."""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Reading
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
IDJAG = Feature.IDJAG

REQUIREMENTS = (
    Requirement(
        "IDJAG-4.4-GRANT",
        SHOULD,
        "An advertised ID-JAG profile works: a valid ID-JAG from a trusted IdP, presented with the JWT bearer"
        " grant by the client it names, gets an OAuth token response.",
        applies_if=IDJAG,
        quote=(
            "The Client makes an access token request to the Resource Authorization Server's token"
            " endpoint using the previously obtained Identity Assertion JWT Authorization Grant as a"
            " JWT Bearer Assertion as defined by [RFC7523]."
        ),
    ),
    Requirement(
        "IDJAG-4.4.1-TYP",
        MUST,
        "The JOSE header typ must be oauth-id-jag+jwt: an ID-JAG without it, or with another typ, is refused"
        " with invalid_grant.",
        applies_if=IDJAG,
        quote="The typ of the JWT indicated in the JWT header MUST be oauth-id-jag+jwt.",
        quote_section="3.1",
    ),
    Requirement(
        "IDJAG-4.4.1-AUD",
        MUST,
        "aud is exactly this server's issuer, as a string or a one-element array; any other aud (a longer or"
        " differently cased URL, the token endpoint, a second audience, none) is refused with invalid_grant.",
        applies_if=IDJAG,
        quote=(
            "The aud claim MUST contain the issuer identifier of the Resource Authorization Server as"
            " defined in [RFC8414]. [...] If the aud claim is an array, it MUST contain exactly one"
            " element, and that element MUST be the issuer identifier of the Resource Authorization"
            " Server. If the aud claim does not match the Resource Authorization Server's issuer"
            " identifier, the Resource Authorization Server MUST reject the JWT with an invalid_grant"
            " error as defined in Section 5.2 of [RFC6749]."
        ),
    ),
    Requirement(
        "IDJAG-4.4.1-CLIENT-BIND",
        MUST,
        "The client_id claim must name the authenticated client; an ID-JAG for another client is refused with"
        " invalid_grant.",
        applies_if=IDJAG,
        quote=(
            "The Resource Authorization Server MUST validate that the client_id claim in the ID-JAG"
            " matches the authenticated client making the request. If they do not match, the Resource"
            " Authorization Server MUST reject the request with an invalid_grant error."
        ),
    ),
    Requirement(
        "IDJAG-3.1-REQUIRED-CLAIMS",
        MUST,
        "iss, sub, aud, client_id, jti, exp and iat are required: an ID-JAG missing any of them is refused.",
        applies_if=IDJAG,
        quote=(
            "iss: REQUIRED - The issuer identifier of the IdP Authorization Server as defined in"
            " [RFC8414]. sub: REQUIRED - Subject Identifier. [...] aud: REQUIRED [...] client_id:"
            " REQUIRED [...] jti: REQUIRED - Unique ID of this JWT as defined in Section 4.1.7 of"
            " [RFC7519]. exp: REQUIRED - as defined in Section 4.1.4 of [RFC7519]. iat: REQUIRED - as"
            " defined in Section 4.1.6 of [RFC7519]."
        ),
    ),
    Requirement(
        "IDJAG-4.4.1-RFC7521",
        MUST,
        "RFC 7521 section 5.2 processing applies: an untrusted issuer, an invalid or missing signature, altered"
        " claims, an expired ID-JAG or one not yet valid is refused with invalid_grant.",
        applies_if=IDJAG,
        quote=(
            "The authorization server MUST reject any assertion that does not contain its own"
            " identity as the intended audience. [...] The authorization server MUST reject"
            " assertions that have expired (subject to allowable clock skew between systems). [...]"
            " The authorization server MUST reject assertions with an invalid signature or MAC."
        ),
        quote_section="5.2",
        quote_spec="RFC7521",
    ),
    Requirement(
        "IDJAG-4.4.1-SCOPE",
        MUST,
        "The scope granted stays within the ID-JAG's scope claim: a request for more is refused or narrowed.",
        applies_if=IDJAG,
        quote=(
            "If the scope claim is present, the Resource Authorization Server MUST process it"
            " according to Section 3.3 of [RFC6749]. [...] The granted scopes MAY be a subset of the"
            " scopes in the ID-JAG issued by the IdP Authorization Server."
        ),
    ),
    Requirement(
        "IDJAG-4.4.1-RESOURCE",
        MUST,
        "The resource claim is processed per RFC 8707: a token request for a resource outside it gets no token.",
        applies_if=IDJAG,
        quote=(
            "If the resource claim is present, the Resource Authorization Server MUST process it"
            " according to Section 2 of [RFC8707]. [...] The granted resources MAY be a subset of the"
            " resources in the ID-JAG issued by the IdP Authorization Server."
        ),
    ),
    Requirement(
        "IDJAG-4.4.1-RESP-GRANTED",
        MUST,
        "The token response includes the granted scope and resource when the ID-JAG carried them.",
        applies_if=IDJAG,
        quote=(
            "The Resource Authorization Server MUST include the granted resource (if any), scope (if"
            " any), and authorization_details (if any) in the access token response."
        ),
    ),
    Requirement(
        "IDJAG-4.4.1-RAR",
        SHOULD,
        (
            "An authorization_details claim that is not a JSON array is refused, since it cannot be"
            " parsed as the section requires (a server that omits it instead, as the same section"
            " lets it omit details by policy, is warned, not failed)."
        ),
        applies_if=IDJAG,
        quote=(
            "If the authorization_details claim is present, the Resource Authorization Server MUST"
            " parse it as a JSON array and process each authorization detail object according to"
            " [RFC9396]. [...] The Resource Authorization Server MAY modify, filter, or omit"
            " authorization details based on policy."
        ),
    ),
    Requirement(
        "IDJAG-8.6.1.2.1-CNF-MISMATCH",
        MUST,
        (
            "An ID-JAG bound to a key (cnf.jkt) presented with a valid DPoP proof made with another key is"
            " refused with invalid_grant; with a proof made with the bound key it is accepted."
        ),
        # Only a server that takes DPoP proofs validates one: key binding is optional in ID-JAG
        # (section 9.8.1, "may support"), and a server without DPoP ignores an unknown header.
        applies_if=Feature.DPOP,
        quote=(
            "If the ID-JAG contains a cnf claim and the client presents a DPoP proof, the Resource"
            " Authorization Server MUST: [...] Compare the two thumbprints. They MUST match exactly. If"
            " they do not match, the request MUST fail with an invalid_grant error."
        ),
        readings=(Reading("04", section="9.8.1.2.1"),),
    ),
    Requirement(
        "IDJAG-8.6.1.2.1-PROOF-VALID",
        MUST,
        (
            "An ID-JAG bound to a key, presented with a DPoP proof for the right key that is itself invalid"
            " (for another URL, here), gets no token: the proof is validated per RFC 9449 section 4."
        ),
        # Only a server that takes DPoP proofs validates one: key binding is optional in ID-JAG
        # (section 9.8.1, "may support"), and a server without DPoP ignores an unknown header.
        applies_if=Feature.DPOP,
        quote=(
            "If the ID-JAG contains a cnf claim and the client presents a DPoP proof, the Resource"
            " Authorization Server MUST: 1. Validate the DPoP proof according to Section 4 of [RFC9449]."
        ),
        readings=(Reading("04", section="9.8.1.2.1"),),
    ),
    Requirement(
        "IDJAG-8.6.1.2.3-PROOF-NO-CNF",
        MUST,
        (
            "A DPoP proof sent with an ID-JAG that carries no cnf is still validated: an invalid proof (for"
            " another URL) gets no token, while a valid one gets a Bearer or a DPoP-bound token."
        ),
        # Only a server that takes DPoP proofs validates one: key binding is optional in ID-JAG
        # (section 9.8.1, "may support"), and a server without DPoP ignores an unknown header.
        applies_if=Feature.DPOP,
        quote=(
            "If the ID-JAG does not contain a cnf claim but the client presents a DPoP proof, the Resource"
            " Authorization Server: 1. MUST validate the DPoP proof according to Section 4 of [RFC9449]."
        ),
        readings=(Reading("04", section="9.8.1.2.3"),),
    ),
    Requirement(
        "IDJAG-8.6.1.2.2-CNF-NO-PROOF",
        MUST,
        "An ID-JAG bound to a key (cnf.jkt) presented without a DPoP proof is refused with invalid_grant.",
        applies_if=IDJAG,
        quote=(
            "If the ID-JAG contains a cnf claim but the client does not present a DPoP proof, the"
            " Resource Authorization Server MUST reject the request with an invalid_grant error, as"
            " the ID-JAG requires proof of possession."
        ),
        readings=(Reading("04", section="9.8.1.2.2"),),
    ),
    Requirement(
        "IDJAG-4.4.3-NO-RT",
        SHOULD,
        "No refresh token is issued for an ID-JAG (the client presents a new ID-JAG instead).",
        applies_if=IDJAG,
        quote=(
            "The Resource Authorization Server SHOULD NOT return a Refresh Token when an Identity"
            " Assertion JWT Authorization is exchanged for an Access Token per Section 5.2 of"
            " [I-D.ietf-oauth-identity-chaining]."
        ),
    ),
    Requirement(
        "IDJAG-8.1-CONFIDENTIAL",
        SHOULD,
        "Only confidential clients use the grant: a public client presenting a valid ID-JAG is refused.",
        applies_if=IDJAG,
        quote="This specification SHOULD only be supported for confidential clients.",
        readings=(Reading("04", section="9.1"),),
    ),
    Requirement(
        "IDJAG-7-PROFILE-ADVERTISED",
        SHOULD,
        "A server that accepts ID-JAGs lists urn:ietf:params:oauth:grant-profile:id-jag in"
        " authorization_grant_profiles_supported.",
        quote=(
            "To advertise support for the Identity Assertion JWT Authorization Grant profile, the"
            " Resource Authorization Server SHOULD include the following value in the"
            " authorization_grant_profiles_supported property:"
            " urn:ietf:params:oauth:grant-profile:id-jag"
        ),
        readings=(Reading("04", section="7.2"),),
    ),
    Requirement(
        "IDJAG-7-GRANT-TYPE",
        MUST,
        "A server listing the ID-JAG profile also lists the JWT bearer grant in grant_types_supported.",
        applies_if=IDJAG,
        quote=(
            "A Resource Authorization Server that includes urn:ietf:params:oauth:grant-profile:id-jag"
            " in authorization_grant_profiles_supported for this specification MUST also include"
            " urn:ietf:params:oauth:grant-type:jwt-bearer in grant_types_supported."
        ),
        readings=(Reading("04", section="7.2"),),
    ),
    Requirement(
        "IDJAG-7-PROFILES-ARRAY",
        MUST,
        "authorization_grant_profiles_supported, when present, is a JSON array of strings.",
        quote="The value of authorization_grant_profiles_supported MUST be a JSON array of strings.",
        readings=(Reading("04", section="7.2"),),
    ),
    Requirement(
        "IDJAG-8.4-NO-DISCLOSE",
        MUST,
        "authorization_grant_profiles_supported names profiles only: no trusted issuers or other trust"
        " relationships are disclosed through it.",
        quote=(
            "Resource Authorization Servers MUST NOT use authorization_grant_profiles_supported to"
            " disclose issuer allow lists or other profile-specific trust relationships."
        ),
        readings=(Reading("04", section="9.4"),),
    ),
)
