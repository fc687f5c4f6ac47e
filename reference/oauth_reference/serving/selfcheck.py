"""``oauth-reference check``: serve the reference and walk a client's whole flow over HTTP.

metadata -> registration -> authorize (PKCE S256) -> token -> API call -> refresh -> revoke, with
each step's outcome printed; exit status 0 only if every step behaved as the standards demand.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import httpx

from oauth_reference.serving.process import served
from oauth_reference.specs import rfc7636

REDIRECT = "http://127.0.0.1:9/callback"


def _step(name: str, ok: bool, detail: str = "") -> bool:
    print(f"{'ok ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    return ok


def run_flow(base: str, say: Callable[[str, bool, str], bool] = _step) -> bool:
    with httpx.Client(base_url=base, timeout=10.0) as http:
        meta = http.get("/.well-known/oauth-authorization-server")
        doc = meta.json()
        if not say("metadata", meta.status_code == 200 and doc.get("issuer") == base, doc.get("issuer", "")):
            return False
        reg = http.post(
            doc["registration_endpoint"],
            json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "check"},
        )
        if not say("registration", reg.status_code == 201, f"HTTP {reg.status_code}"):
            return False
        client_id = reg.json()["client_id"]
        verifier = secrets.token_urlsafe(48)
        challenge = rfc7636.s256(verifier)
        state = secrets.token_urlsafe(12)
        auth = http.get(
            doc["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": REDIRECT,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": state,
                "scope": "profile",
            },
        )
        location = auth.headers.get("location", "")
        query = parse_qs(urlsplit(location).query)
        good = location.startswith(REDIRECT) and query.get("state") == [state] and query.get("iss") == [base]
        if not say("authorize", good and "code" in query, f"HTTP {auth.status_code}"):
            return False
        token = http.post(
            doc["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "code_verifier": verifier,
                "client_id": client_id,
                "redirect_uri": REDIRECT,
            },
        )
        body = token.json()
        if not say("token", token.status_code == 200 and "refresh_token" in body, f"HTTP {token.status_code}"):
            return False
        api = http.get("/api/whoami", headers={"Authorization": f"Bearer {body['access_token']}"})
        if not say("API call", api.status_code == 200 and "props" in api.json(), f"HTTP {api.status_code}"):
            return False
        fresh = http.post(
            doc["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": client_id},
        )
        renewed = fresh.json()
        if not say("refresh", fresh.status_code == 200 and renewed.get("refresh_token") != body["refresh_token"], ""):
            return False
        revoke = http.post(doc["revocation_endpoint"], data={"token": renewed["refresh_token"], "client_id": client_id})
        after = http.get("/api/whoami", headers={"Authorization": f"Bearer {renewed['access_token']}"})
        return say(
            "revoke", revoke.status_code == 200 and after.status_code == 401, f"API then HTTP {after.status_code}"
        )


def main() -> int:
    with served(["--auto-approve", "--store", "memory"]) as server:
        print(f"serving {server.url} (pid {server.pid})")
        ok = run_flow(server.url)
    print("all steps passed" if ok else "a step failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
