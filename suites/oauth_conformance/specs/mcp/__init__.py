"""MCP authorization (2025-11-25): what MCP clients require of an authorization server."""
