"""CIMD requirements of an authorization server, in our words. Section numbers are those of
draft-ietf-oauth-client-id-metadata-document-01 (catalogue.SPECS), checked against its text:
3 (the client identifier URL), 4 (discovery), 4.1 (the document), 4.3 to 4.5 (errors, caching,
redirect URIs), 5 (metadata) and 6.2 to 6.9 (security considerations)."""

from oauth_conformance.catalogue import Level
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
    ),
    Requirement(
        "CIMD-4-CODE-FLOW",
        MUST,
        "A client whose client_id is a document URL completes the code flow with PKCE: a code, then tokens at the"
        " token endpoint.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4-CODE-BINDING",
        MUST,
        "A code issued to one document client cannot be redeemed by another document client.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4-FETCH",
        SHOULD,
        "The server fetches the document when it sees a URL client_id in an authorization request.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-3-URL-RULES",
        MUST,
        "A client_id URL that is not https, has no path, has dot segments, a fragment or user information is"
        " refused, and never fetched.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4-ONLY-200",
        MUST,
        "Only a 200 response is a document: any other status is an error, whatever the body says.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4-NO-REDIRECTS",
        MUST,
        "Redirects are not followed when fetching a document: the redirect target is never requested.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4.1-CLIENT-ID-MATCH",
        MUST,
        "The document's client_id equals the document URL by simple string comparison; any other value (another"
        " path, a trailing slash, another case) is refused.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4.1-JSON",
        MUST,
        "The document is a JSON object with a client_id: a body that is not JSON, a JSON array, or an object"
        " without client_id is refused.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4.1-NO-SYMMETRIC",
        MUST,
        "A document cannot make a shared-secret client: client_secret_* auth methods, client_secret and"
        " client_secret_expires_at are refused, or the client is treated as public and no secret is accepted.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4.3-FETCH-FAIL",
        SHOULD,
        "When fetching the document fails (here: it trickles in too slowly), the authorization request is"
        " aborted, promptly.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4.4-NO-ERROR-CACHE",
        MUST,
        "Error responses and invalid documents are not cached: after a failed fetch, a good document at the same"
        " URL works at once.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4.4-HTTP-CACHE",
        SHOULD,
        "Caching follows the document's HTTP cache headers: no-store is fetched again, and a cached document is"
        " fetched again once its max-age has passed.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-4.5-REDIRECT-EXACT",
        MUST,
        "The request's redirect_uri must exactly match one the document lists; otherwise the request is refused"
        " without redirecting.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-6.2-PKJWT",
        MUST,
        "A document declaring private_key_jwt with keys makes a confidential client: every token request needs a"
        " valid client assertion.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-6.4-HOST-DISPLAY",
        SHOULD,
        "The authorization interface shows the client_id's host name.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-6.5-SSRF-CLIENT-ID",
        MUST,
        "A client_id URL on a special-use address (private, link-local, shared, unique-local, IPv4-mapped) is"
        " refused promptly, without redirecting.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-6.5-SSRF-EMBEDDED",
        SHOULD,
        "URLs inside a document (jwks_uri, logo_uri, ...) that resolve to special-use addresses are not fetched.",
        applies_if=CIMD,
        untestable="seeing that a target did not fetch a special-use address needs a DNS name the harness"
        " controls and a canary listener at that address, which a loopback harness does not have",
    ),
    Requirement(
        "CIMD-6.6-MAX-SIZE",
        SHOULD,
        "The server limits how much of a document it reads: an oversized document is refused promptly.",
        applies_if=CIMD,
    ),
    Requirement(
        "CIMD-6.9-NO-HTTPS-IDS",
        SHOULD,
        "Client ids the server generates itself (dynamic registration) do not start with https://.",
        applies_if=CIMD,
    ),
)
