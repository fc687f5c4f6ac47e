"""MCP authorization requirements that concern the authorization server."""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement

REQUIREMENTS = (
    Requirement(
        "MCP-DISC-ORDER",
        Level.MUST,
        "Metadata is found by the MCP clients' discovery order: OAuth path insertion, then OpenID path"
        " insertion, then OpenID path appending.",
        anchor="authorization-server-metadata-discovery",
        quote=(
            "MCP authorization servers MUST provide at least one of the following discovery"
            " mechanisms: - OAuth 2.0 Authorization Server Metadata (RFC8414) - OpenID Connect"
            " Discovery 1.0"
        ),
        quote_section="overview",
    ),
    Requirement(
        "MCP-DISC-PKCE-ADVERT",
        Level.MUST,
        "The discovery document MCP clients use lists S256 in code_challenge_methods_supported;"
        " without it they refuse to proceed.",
        anchor="authorization-code-protection",
        quote=(
            "If code_challenge_methods_supported is absent, the authorization server does not support"
            " PKCE and MCP clients MUST refuse to proceed. [...] Authorization servers providing"
            " OpenID Connect Discovery 1.0 MUST include code_challenge_methods_supported in their"
            " metadata to ensure MCP compatibility."
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# What MCP asks of the protected resource (the MCP server the profile names as [resource] url),
# of resource indicators, of registration and of token lifetimes. MCP's "Token Requirements"
# adopt OAuth 2.1 section 5 (draft -13) for requests to MCP servers; the query-string rule below
# comes from its section 5.1.
from oauth_conformance.features import Feature  # noqa: E402

REQUIREMENTS += (  # type: ignore[assignment]  # the tuple above is typed by its length
    Requirement(
        "MCP-RES-PARAM",
        Level.SHOULD,
        "A request carrying resource = the resource's canonical URI, as MCP clients always send it, succeeds at"
        " the authorization endpoint, the code exchange and refresh (an authorization server without RFC 8707"
        " must ignore the unknown parameter, OAuth 2.1 section 3.1).",
        applies_if=Feature.RESOURCE_INDICATORS,
        anchor="resource-parameter-implementation",
        quote=("MCP clients MUST send this parameter regardless of whether authorization servers support it."),
        quote_section="canonical-server-uri",
    ),
    Requirement(
        "MCP-RES-CANONICAL",
        Level.SHOULD,
        "A resource URI written with an upper-case scheme and host is accepted as its canonical lower-case form.",
        applies_if=Feature.RESOURCE_INDICATORS,
        anchor="canonical-server-uri",
        quote=(
            "While the canonical form uses lowercase scheme and host components, implementations"
            " SHOULD accept uppercase scheme and host components for robustness and interoperability."
        ),
    ),
    Requirement(
        "MCP-TOKEN-QUERY",
        Level.MUST,
        "The MCP server ignores an access token sent in the URI query: a request carrying one only there is"
        " treated as unauthenticated (OAuth 2.1 section 5.1).",
        applies_if=Feature.PROTECTED_RESOURCE,
        anchor="token-requirements",
        quote=(
            "Access token handling when making requests to MCP servers MUST conform to the"
            ' requirements defined in OAuth 2.1 Section 5 "Resource Requests".'
        ),
    ),
    Requirement(
        "MCP-TOKEN-INVALID-401",
        Level.MUST,
        "An invalid or expired access token is answered with HTTP 401.",
        applies_if=Feature.PROTECTED_RESOURCE,
        anchor="token-handling",
        quote="Invalid or expired tokens MUST receive a HTTP 401 response.",
    ),
    Requirement(
        "MCP-TOKEN-OWN-ONLY",
        Level.MUST,
        "The MCP server accepts only tokens issued for it: a token its authorization server never issued (a JWT"
        " signed by someone else naming the right issuer and audience) is refused.",
        applies_if=Feature.PROTECTED_RESOURCE,
        anchor="token-handling",
        quote="MCP servers MUST only accept tokens that are valid for use with their own resources.",
    ),
    Requirement(
        "MCP-ERR-401",
        Level.MUST,
        "A request that needs authorization and carries none is answered with HTTP 401.",
        applies_if=Feature.PROTECTED_RESOURCE,
        anchor="error-handling",
        quote=(
            "Servers MUST return appropriate HTTP status codes for authorization errors: [...] 401"
            " Unauthorized Authorization required or token invalid"
        ),
    ),
    Requirement(
        "MCP-PRM-AS-LIST",
        Level.MUST,
        "The MCP server's protected resource metadata lists at least one authorization server.",
        applies_if=Feature.RESOURCE_METADATA,
        anchor="authorization-server-location",
        quote=(
            "The Protected Resource Metadata document returned by the MCP server MUST include the"
            " authorization_servers field containing at least one authorization server."
        ),
    ),
    Requirement(
        "MCP-PRM-DISCOVERY",
        Level.MUST,
        "MCP clients can find the resource metadata: the 401 challenge names resource_metadata, or it is served"
        " at the path-suffixed or the root well-known URI of the MCP server's URL.",
        applies_if=Feature.RESOURCE_METADATA,
        anchor="protected-resource-metadata-discovery-requirements",
        quote=(
            "MCP servers MUST implement one of the following discovery mechanisms to provide"
            " authorization server location information to MCP clients:"
        ),
    ),
    Requirement(
        "MCP-PRM-SCOPE",
        Level.SHOULD,
        "The 401 challenge includes a scope parameter naming the scopes the request needs.",
        applies_if=Feature.RESOURCE_METADATA,
        anchor="protected-resource-metadata-discovery-requirements",
        quote=(
            "MCP servers SHOULD include a scope parameter in the WWW-Authenticate header as defined"
            " in RFC 6750 Section 3 to indicate the scopes required for accessing the resource."
        ),
    ),
    Requirement(
        "MCP-COMM-REDIRECT",
        Level.MUST,
        "Redirect URIs are localhost or https: registering a remote http redirect URI is refused.",
        applies_if=Feature.REGISTRATION,
        anchor="communication-security",
        quote="All redirect URIs MUST be either localhost or use HTTPS.",
    ),
    Requirement(
        "MCP-THEFT-SHORT-AT",
        Level.SHOULD,
        "The authorization server issues short-lived access tokens (expires_in of one hour or less).",
        anchor="token-theft",
        quote=("Authorization servers SHOULD issue short-lived access tokens to reduce the impact of leaked tokens."),
    ),
)

# ---------------------------------------------------------------------------------------------
# What MCP adds to OAuth 2.1 for authorization codes and refresh tokens (Authorization Code
# Protection, Token Theft); the OAuth 2.1 and RFC 7636 suites verify the underlying rows.
REQUIREMENTS += (  # type: ignore[assignment]
    Requirement(
        "MCP-CODE-PKCE",
        Level.MUST,
        "The code flow MCP clients run works with PKCE S256, and a public client's request without a"
        " code_challenge gets no code (MCP clients rely on PKCE being enforced).",
        anchor="authorization-code-protection",
        quote=(
            "Authorization servers MUST implement OAuth 2.1 with appropriate security measures for"
            " both confidential and public clients."
        ),
        quote_section="overview",
    ),
    Requirement(
        "MCP-SEC-RT-ROTATION",
        Level.MUST,
        "Refresh tokens of public clients are rotated on every refresh, and the presented one stops working"
        " (MCP requires rotation where OAuth 2.1 also allows sender-constraining).",
        applies_if=Feature.REFRESH,
        anchor="token-theft",
        quote=(
            "For public clients, authorization servers MUST rotate refresh tokens as described in"
            ' OAuth 2.1 Section 4.3.1 "Token Endpoint Extension".'
        ),
    ),
    # ------------------------------------------------ client ID metadata documents (CIMD rows)
    Requirement(
        "MCP-CIMD-SUPPORT",
        Level.SHOULD,
        "The authorization server supports client ID metadata documents and says so with"
        " client_id_metadata_document_supported.",
        anchor="client-id-metadata-documents",
        quote=(
            "MCP clients and authorization servers SHOULD support OAuth Client ID Metadata Documents"
            " as specified in OAuth Client ID Metadata Document."
        ),
    ),
    Requirement(
        "MCP-CIMD-CLIENT-ID",
        Level.MUST,
        "A fetched document whose client_id does not match its URL exactly is refused.",
        applies_if=Feature.CIMD,
        anchor="implementation-requirements",
        quote=(
            "For Authorization Servers: [...] MUST validate that the fetched document's client_id"
            " matches the URL exactly"
        ),
    ),
    Requirement(
        "MCP-CIMD-REDIRECT-URIS",
        Level.MUST,
        "An authorization request's redirect_uri is checked against the document's redirect_uris.",
        applies_if=Feature.CIMD,
        anchor="implementation-requirements",
        quote=(
            "For Authorization Servers: [...] MUST validate redirect URIs presented in an"
            " authorization request against those in the metadata document"
        ),
    ),
    Requirement(
        "MCP-CIMD-DOCUMENT",
        Level.MUST,
        "A document that is not valid JSON, or lacks a field MCP requires (client_id, client_name,"
        " redirect_uris), is refused.",
        applies_if=Feature.CIMD,
        anchor="implementation-requirements",
        quote=(
            "For Authorization Servers: [...] MUST validate the document structure is valid JSON and"
            " contains required fields"
        ),
    ),
    Requirement(
        "MCP-CIMD-REDIRECT-HOST",
        Level.MUST,
        "The authorization interface clearly shows the host name of the redirect URI the result goes to.",
        applies_if=Feature.CIMD,
        anchor="localhost-redirect-uri-risks",
        quote=("Authorization servers: [...] MUST clearly display the redirect URI hostname during authorization"),
    ),
    Requirement(
        "MCP-CIMD-LOCALHOST-WARNING",
        Level.SHOULD,
        "A client whose redirect URIs are all localhost gets an additional warning on the authorization page:"
        " its page says something the page of an otherwise identical https client does not (the wording is not"
        " judged).",
        applies_if=Feature.CIMD,
        anchor="localhost-redirect-uri-risks",
        quote=("Authorization servers: - SHOULD display additional warnings for localhost-only redirect URIs"),
    ),
    # ------------------------- enterprise-managed authorization extension (ext-auth draft, section 5.1)
    Requirement(
        "MCP-EMA-TYP",
        Level.MUST,
        "Enterprise-managed authorization: an ID-JAG whose JOSE typ is not oauth-id-jag+jwt is refused.",
        applies_if=Feature.IDJAG,
        anchor="mcp-authorization-extensions",
        quote="The typ claim of the JWT indicated in the JWT header MUST be oauth-id-jag+jwt.",
        quote_section="4.3",
        quote_spec="MCP-EMA",
    ),
    Requirement(
        "MCP-EMA-AUD",
        Level.MUST,
        "Enterprise-managed authorization: an ID-JAG whose aud is not this authorization server's issuer is refused.",
        applies_if=Feature.IDJAG,
        anchor="mcp-authorization-extensions",
        quote=(
            "The aud claim of the assertion JWT MUST identify the Issuer URL of the MCP Server's"
            " authorization server as the intended audience of the JWT."
        ),
        quote_section="5.1",
        quote_spec="MCP-EMA",
    ),
    Requirement(
        "MCP-EMA-CLIENT-ID",
        Level.MUST,
        "Enterprise-managed authorization: an ID-JAG whose client_id is not the authenticated client is refused.",
        applies_if=Feature.IDJAG,
        anchor="mcp-authorization-extensions",
        quote=(
            "The client_id claim of the assertion JWT MUST identify the same client as the client"
            " authentication in the request (e.g., the client_id specified in a basic auth header)."
        ),
        quote_section="5.1",
        quote_spec="MCP-EMA",
    ),
    Requirement(
        "MCP-EMA-RFC7521",
        Level.MUST,
        "Enterprise-managed authorization: RFC 7521 section 5.2 applies (trusted issuer, valid signature, unexpired).",
        applies_if=Feature.IDJAG,
        anchor="mcp-authorization-extensions",
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
        "MCP-EMA-RESOURCE",
        Level.SHOULD,
        "Enterprise-managed authorization: an ID-JAG naming the MCP server as its resource yields an access token"
        " the MCP server accepts.",
        applies_if=Feature.IDJAG,
        anchor="mcp-authorization-extensions",
        quote="The MCP Server's authorization server responds with an OAuth 2.0 Token Response",
        quote_section="5.2",
        quote_spec="MCP-EMA",
    ),
    Requirement(
        "MCP-PROXY-CONSENT",
        Level.MUST,
        (
            "A server that forwards authorization requests to another authorization server (a proxy with a"
            " static upstream client) first obtains the user's consent for the requesting client: a newly"
            " registered client is never sent straight on to the upstream server."
        ),
        anchor="confused-deputy-problem",
        quote=(
            "MCP proxy servers using static client IDs MUST obtain user consent for each dynamically registered"
            " client before forwarding to third-party authorization servers (which may require additional"
            " consent)."
        ),
    ),
)
