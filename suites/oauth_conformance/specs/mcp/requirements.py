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
    ),
    Requirement(
        "MCP-DISC-PKCE-ADVERT",
        Level.MUST,
        "The discovery document MCP clients use lists S256 in code_challenge_methods_supported;"
        " without it they refuse to proceed.",
        anchor="authorization-code-protection",
    ),
)
