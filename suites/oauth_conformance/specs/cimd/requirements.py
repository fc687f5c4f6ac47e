"""CIMD requirements of an authorization server, in our words.

Ids carry the sections of draft-ietf-oauth-client-id-metadata-document-01, where the rows were
defined: 3 (the client identifier URL), 4 (discovery), 4.1 (the document), 4.3 to 4.5 (errors,
caching, redirect URIs), 5 (metadata) and 6.2 to 6.9 (security considerations). Draft -02 split
"what the document holds" (4, 4.1 credentials and keys, 4.2 redirect URLs) from "how it is
fetched" (5, 5.1 errors, 5.2 caching), moved the metadata to 6, the implementation notes to 7 and
the security considerations to 8, reworded most rules, raised the SSRF rule for URLs inside a
document to a MUST and added the rule against private keys in a document; each row's readings
say how -02 states it. Every quote is checked against both texts."""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Reading
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
CIMD = Feature.CIMD

REQUIREMENTS = (
    Requirement(
        "CIMD-5-METADATA",
        MUST,
        "client_id_metadata_document_supported is true exactly when URL client ids work: advertised but broken,"
        " or working but not advertised, is a failure.",
        quote=(
            "Authorization servers that publish Authorization Server Metadata [RFC8414] MUST include"
            " the following property to signal support for client metadata documents as described in"
            " this specification. client_id_metadata_document_supported: OPTIONAL. Boolean value"
            " specifying whether the authorization server supports retrieving client metadata from a"
            " client_id URL as described in this specification."
        ),
        readings=(
            Reading(
                "02",
                section="6",
                quote=(
                    "Authorization servers that publish Authorization Server Metadata [RFC8414] MUST include the "
                    "following property to signal support for Client ID Metadata Documents as described in this "
                    "specification. client_id_metadata_document_supported: OPTIONAL. Boolean value specifying "
                    "whether the authorization server supports retrieving client metadata from a client_id URL as"
                    " described in this specification."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4-CODE-FLOW",
        SHOULD,
        "A client whose client_id is a document URL completes the code flow with PKCE: a code, then tokens at the"
        " token endpoint.",
        applies_if=CIMD,
        quote=(
            "The authorization server SHOULD fetch the document indicated by the client_id to"
            " retrieve the client registration information."
        ),
        readings=(
            Reading(
                "02",
                section="5",
                quote=(
                    "Authorization servers SHOULD automatically fetch the Client ID Metadata Document at the "
                    "Client Identifier URL to retrieve the client metadata."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4-CODE-BINDING",
        MUST,
        "A code issued to one document client cannot be redeemed by another document client.",
        applies_if=CIMD,
        quote=(
            "In addition to the processing rules in Section 3.2.2, the authorization server MUST: *"
            " ensure that the authorization code was issued to the authenticated confidential client,"
            " or if the client is public, ensure that the code was issued to client_id in the"
            " request,"
        ),
        quote_section="4.1.3",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "CIMD-4-FETCH",
        SHOULD,
        "The server fetches the document when it sees a URL client_id in an authorization request.",
        applies_if=CIMD,
        quote=(
            "The authorization server SHOULD fetch the document indicated by the client_id to"
            " retrieve the client registration information."
        ),
        readings=(
            Reading(
                "02",
                section="5",
                quote=(
                    "Authorization servers SHOULD automatically fetch the Client ID Metadata Document at the "
                    "Client Identifier URL to retrieve the client metadata."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-3-URL-RULES",
        SHOULD,
        (
            "A client_id URL that is not https, has no path, has dot segments, a fragment or user"
            " information is refused, and never fetched (section 3's MUSTs define a valid client"
            " identifier URL; the draft states no duty of the server to refuse one that breaks them)."
        ),
        applies_if=CIMD,
        quote=(
            'Client identifier URLs MUST have an "https" scheme, MUST contain a path component, MUST'
            " NOT contain single-dot or double-dot path segments, MUST NOT contain a fragment"
            " component and MUST NOT contain a username or password"
        ),
        readings=(
            Reading(
                "02",
                quote=(
                    "A Client Identifier URL: * MUST use the https URL scheme * MUST NOT contain a userinfo "
                    "component defined by [RFC3986] * MAY contain a port * MUST contain a path component * MUST "
                    "NOT contain single-dot or double-dot path components"
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4-ONLY-200",
        MUST,
        "Only a 200 response is a document: any other status is an error, whatever the body says.",
        applies_if=CIMD,
        quote=(
            "A successful response MUST use the 200 OK HTTP status code. The authorization server"
            " MUST treat all other HTTP status codes as an error response."
        ),
        readings=(
            Reading(
                "02",
                section="5",
                quote=(
                    "The Client ID Metadata Document MUST be served with a 200 OK HTTP status code. The "
                    "authorization server MUST treat all other HTTP status codes as an error response, as "
                    "described in Section 5.1."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4-NO-REDIRECTS",
        MUST,
        "Redirects are not followed when fetching a document: the redirect target is never requested.",
        applies_if=CIMD,
        quote=(
            "The authorization server MUST NOT automatically follow HTTP redirects when retrieving"
            " the client registration information."
        ),
        readings=(
            Reading(
                "02",
                section="5",
                quote=(
                    "The authorization server MUST NOT automatically follow HTTP redirects when fetching the "
                    "Client ID Metadata Document."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4.1-CLIENT-ID-MATCH",
        MUST,
        "The document's client_id equals the document URL by simple string comparison; any other value (another"
        " path, a trailing slash, another case) is refused.",
        applies_if=CIMD,
        quote=(
            "The client metadata document MUST contain a client_id property whose value MUST match"
            " the URL of the document using simple string comparison as defined in [RFC3986] Section"
            " 6.2.1."
        ),
        readings=(
            Reading(
                "02",
                section="4",
                quote=(
                    "The Client ID Metadata Document MUST contain a client_id property whose value MUST match the"
                    " Client Identifier URL, which MUST also match the URL that the authorization server used to "
                    "fetch the document; comparisons MUST be made using simple string comparison as defined in "
                    "Section 6.2.1 of [RFC3986]."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4.1-JSON",
        MUST,
        "The document is a JSON object with a client_id: a body that is not JSON, a JSON array, or an object"
        " without client_id is refused.",
        applies_if=CIMD,
        quote=(
            "The client metadata document is a JSON ([RFC8259]) document containing the metadata of"
            " the client. [...] The client metadata document MUST contain a client_id property"
        ),
        readings=(
            Reading(
                "02",
                section="4",
                quote=(
                    "The Client ID Metadata Document is a JSON ([RFC8259]) document containing the metadata of "
                    "the client. [...] The Client ID Metadata Document MUST contain a client_id property"
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4.1-NO-SYMMETRIC",
        MUST,
        (
            "A document cannot make a shared-secret client: one naming a client_secret_* method, a"
            " client_secret or client_secret_expires_at is refused, or its client is treated as"
            " public and the secret ignored (a wrong secret gets tokens as well); a secret never"
            " decides."
        ),
        applies_if=CIMD,
        quote=(
            "As there is no way to establish a shared secret to be used with client metadata"
            " documents, the following restrictions apply on the contents of the client metadata"
            " document: * the token_endpoint_auth_method property MUST NOT include"
            " client_secret_post, client_secret_basic, client_secret_jwt, or any other method based"
            " around a shared symmetric secret. * the client_secret and client_secret_expires_at"
            " properties MUST NOT be used"
        ),
        readings=(
            Reading(
                "02",
                quote=(
                    "As there is no way to establish a shared secret to be used with client metadata documents, "
                    "the following restrictions apply to the contents of the Client ID Metadata Document: * the "
                    "token_endpoint_auth_method property MUST NOT include client_secret_post, "
                    "client_secret_basic, client_secret_jwt, or any other method based around a shared symmetric "
                    "secret * the client_secret and client_secret_expires_at properties MUST NOT be used"
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4.1-NO-PRIVATE-KEYS",
        MUST,
        (
            "A document that publishes private key material (a JWK with d, p, q or k in its jwks) makes"
            " no client: it is refused, and an assertion signed with that key gets no token."
        ),
        applies_if=CIMD,
        since="02",
        quote=(
            "private key material MUST NOT be included in the Client ID Metadata Document; only public"
            " keys, such as those published via the jwks or jwks_uri properties, are permitted"
        ),
    ),
    Requirement(
        "CIMD-4.3-FETCH-FAIL",
        SHOULD,
        "When fetching the document fails (here: it trickles in too slowly), the authorization request is"
        " aborted, promptly.",
        applies_if=CIMD,
        quote=(
            "If fetching the metadata document fails, the authorization server SHOULD abort the authorization request."
        ),
        readings=(
            Reading(
                "02",
                section="5.1",
                quote=(
                    "If the authorization server attempts to fetch the Client ID Metadata Document, and fetching "
                    "the metadata document fails, the authorization server SHOULD abort the authorization "
                    "request."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-4.4-NO-ERROR-CACHE",
        MUST,
        "Error responses and invalid documents are not cached: after a failed fetch, a good document at the same"
        " URL works at once.",
        applies_if=CIMD,
        quote=(
            "The authorization server MUST NOT cache error responses. The authorization server also"
            " MUST NOT cache documents which are invalid or malformed."
        ),
        readings=(Reading("02", section="5.2"),),
    ),
    Requirement(
        "CIMD-4.4-HTTP-CACHE",
        SHOULD,
        "Caching follows the document's HTTP cache headers: no-store is fetched again, and a cached document is"
        " fetched again once its max-age has passed.",
        applies_if=CIMD,
        quote=(
            "The authorization server SHOULD respect HTTP cache headers [RFC9111] when caching client"
            " metadata, but MAY define its own upper and/or lower bounds on an acceptable cache"
            " lifetime as well."
        ),
        readings=(Reading("02", section="5.2"),),
    ),
    Requirement(
        "CIMD-4.5-REDIRECT-EXACT",
        MUST,
        "The request's redirect_uri must exactly match one the document lists; otherwise the request is refused"
        " without redirecting.",
        applies_if=CIMD,
        quote=(
            "According to [RFC9700], the authorization server MUST require registration of redirect"
            " URIs, and MUST ensure that the redirect URI in a request is an exact match of a"
            " registered redirect URI."
        ),
        readings=(
            Reading(
                "02",
                section="4.2",
                quote=(
                    "According to [RFC9700], the authorization server MUST require registration of redirect URLs,"
                    " and MUST ensure that the redirect URL in an authorization request is an exact match, using "
                    "simple string comparison, of a registered redirect URL."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-6.2-PKJWT",
        MUST,
        "A document declaring private_key_jwt with keys makes a confidential client: every token request needs a"
        " valid client assertion.",
        applies_if=CIMD,
        quote=(
            "This establishes this client as a confidential client, and any communication with the"
            " authorization server MUST include client authentication of the registered type."
        ),
        readings=(Reading("02", section="8.2"),),
    ),
    Requirement(
        "CIMD-6.4-HOST-DISPLAY",
        SHOULD,
        "The authorization interface shows the client_id's host name.",
        applies_if=CIMD,
        quote=(
            "The authorization server SHOULD display the hostname of the client_id on the"
            " authorization interface, in addition to displaying the fetched client information if"
            " any."
        ),
        readings=(Reading("02", section="8.5"),),
    ),
    Requirement(
        "CIMD-6.5-SSRF-CLIENT-ID",
        MUST,
        "A client_id URL that resolves to a special-use address (private, link-local, shared, unique-local,"
        " unspecified, IPv4-mapped, and loopback other than the address the server itself runs on) is refused"
        " promptly, without redirecting; for loopback and unspecified addresses the harness sees that no"
        " connection was made (a canary listener on another loopback address, the fixture host on 0.0.0.0).",
        applies_if=CIMD,
        quote=(
            "Authorization servers MUST validate that the Client ID Metadata Document URL does not"
            " resolve to special-use IP addresses as defined in [RFC6890], except when the"
            " authorization server itself is also running on a loopback address and the resolved"
            " address matches the same loopback interface."
        ),
        readings=(
            Reading(
                "02",
                section="8.6",
                quote=(
                    "Authorization servers MUST NOT fetch a Client ID Metadata Document URL or any URLs contained"
                    " within a Client ID Metadata Document that resolve to special-use IP addresses as defined in"
                    " [RFC6890]."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-6.5-SSRF-EMBEDDED",
        SHOULD,
        "URLs inside a document (jwks_uri, logo_uri, ...) that resolve to special-use addresses are not fetched:"
        " seen with 0.0.0.0 when the target runs next to the fixture host (a fetch would reach it).",
        applies_if=CIMD,
        quote=(
            "Authorization servers SHOULD NOT fetch any URLs contained within Client ID Metadata"
            " Documents that resolve to special-use IP addresses as defined in [RFC6890] and consider"
            " network policies or other measures to prevent making requests to these addresses."
        ),
        readings=(
            Reading(
                "02",
                section="8.6",
                level=MUST,
                quote=(
                    "Authorization servers MUST NOT fetch a Client ID Metadata Document URL or any URLs contained"
                    " within a Client ID Metadata Document that resolve to special-use IP addresses as defined in"
                    " [RFC6890]."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-6.6-MAX-SIZE",
        SHOULD,
        "The server limits how much of a document it reads: an oversized document is refused promptly.",
        applies_if=CIMD,
        quote=(
            "Authorization servers SHOULD limit the response size when fetching the client metadata"
            " document, as to avoid denial of service attacks against the authorization server by"
            " consuming excessive resources (memory, disk, database)."
        ),
        readings=(
            Reading(
                "02",
                section="8.7",
                quote=(
                    "Instead, authorization servers SHOULD limit the amount of data they read and process when "
                    "fetching a Client ID Metadata Document, for example by stopping after a maximum number of "
                    "bytes and treating the response as an error if that limit is reached before the document has"
                    " been fully read."
                ),
            ),
        ),
    ),
    Requirement(
        "CIMD-6.9-NO-HTTPS-IDS",
        SHOULD,
        "Client ids the server generates itself (dynamic registration) do not start with https://.",
        applies_if=CIMD,
        quote=(
            "If an Authorization Server wishes to support clients using Client ID Metadata Documents"
            " as well as clients where the Authorization Server generates the client_id, it SHOULD"
            " ensure that the client_id strings it generates do not start with https://."
        ),
        readings=(
            Reading(
                "02",
                section="7.1",
                quote=(
                    "If an authorization server wishes to support clients using Client ID Metadata Documents as "
                    "well as clients where the authorization server generates the client_id, it SHOULD ensure "
                    "that the client_id strings it generates do not start with https://."
                ),
            ),
        ),
    ),
)
