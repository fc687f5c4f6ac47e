"""DPoP (RFC 9449) as a client does it: proof keys, proofs, and requests that follow the server's nonces.

A :class:`ProofKey` is a fresh P-256 key made for one test (no key material is kept anywhere).
:class:`DPoP` sends token and resource requests with proofs, learns the nonce a server supplies
(``DPoP-Nonce``, sections 8 and 9) and retries once with it, so a test meets the server's real
judgement of the proof rather than a nonce challenge. Negative tests build their broken proofs
with :meth:`ProofKey.proof` and the nonce from :meth:`DPoP.current_nonce`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey
from joserfc.jwk import OctKey

from oauth_conformance.support.checks import bearer_param
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.checks import parse_challenges
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import Authorization
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import Tokens
from oauth_conformance.verdicts import PrerequisiteFailed

OMIT = object()  # a proof claim or header member to leave out


def access_token_hash(token: str) -> str:
    """ath: base64url(SHA-256(ASCII(token))) (RFC 9449 section 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


@dataclass
class ProofKey:
    """A proof-of-possession key pair made for one test."""

    key: ECKey

    @classmethod
    def new(cls) -> ProofKey:
        return cls(ECKey.generate_key("P-256"))

    @property
    def thumbprint(self) -> str:
        """The JWK SHA-256 thumbprint (RFC 7638): dpop_jkt and cnf.jkt."""
        return str(self.key.thumbprint())

    @property
    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        typ: Any = "dpop+jwt",
        jwk: Any = None,
        signer: ECKey | None = None,
        mac: bool = False,
        **claims: Any,
    ) -> str:
        """A proof for ``method`` ``url``; keywords change one thing about it (``OMIT`` drops a member)."""
        body: dict[str, Any] = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url, "iat": int(time.time())}
        if access_token is not None:
            body["ath"] = access_token_hash(access_token)
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims)
        header: dict[str, Any] = {"alg": "HS256" if mac else "ES256", "typ": typ, "jwk": jwk or self.public_jwk}
        header = {k: v for k, v in header.items() if v is not OMIT}
        body = {k: v for k, v in body.items() if v is not OMIT}
        if mac:  # a MAC "proof": signed with a shared key, which RFC9449-4.3-ALG forbids
            return jwt.encode(header, body, OctKey.generate_key(256), algorithms=["HS256"])
        return jwt.encode(header, body, signer or self.key, algorithms=["ES256"])


def dpop_challenges(response: httpx.Response) -> list[list[tuple[str, str]]]:
    """The parameters of each ``DPoP`` challenge of the answer (the scheme is case-insensitive)."""
    values = response.headers.get_list("www-authenticate")
    return [params for scheme, params in parse_challenges(values) if scheme.lower() == "dpop"]


def dpop_param(response: httpx.Response, name: str) -> str | None:
    """The first value of ``name`` in the answer's DPoP challenges, if any."""
    for params in dpop_challenges(response):
        for key, value in params:
            if key == name:
                return value
    return None


def asks_for_nonce(response: httpx.Response) -> bool:
    """An answer that wants a (new) nonce: use_dpop_nonce in the body or in a challenge."""
    if error_code(response) == "use_dpop_nonce":
        return True
    return "use_dpop_nonce" in (dpop_param(response, "error"), bearer_param(response, "error"))


class DPoP:
    """Requests with proofs, following the nonces the server supplies (one per server origin)."""

    def __init__(self, oauth: OAuth) -> None:
        self.oauth = oauth
        self.nonces: dict[str, str] = {}  # the latest nonce each URL's server supplied
        self.nonce_supplied = False  # the server was seen to supply a nonce (RFC 9449 section 8)

    def _origin(self, url: str) -> str:
        parts = httpx.URL(url)
        return f"{parts.scheme}://{parts.host}:{parts.port or ''}"

    def current_nonce(self, url: str) -> str | None:
        return self.nonces.get(self._origin(url))

    def learn(self, url: str, response: httpx.Response) -> None:
        values = response.headers.get_list("dpop-nonce")
        if values:
            self.nonces[self._origin(url)] = values[-1]
            self.nonce_supplied = True

    def send(
        self,
        method: str,
        url: str,
        key: ProofKey | None,
        *,
        proof: str | None = None,
        access_token: str | None = None,
        retry: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with a proof (``proof`` as given, else a fresh one by ``key``); follow one nonce challenge."""
        headers = dict(kwargs.pop("headers", None) or {})

        def attempt() -> httpx.Response:
            sent = dict(headers)
            made = proof
            if made is None and key is not None:
                made = key.proof(method, url, access_token=access_token, nonce=self.current_nonce(url))
            if made is not None:
                sent["DPoP"] = made
            response = self.oauth.http.request(method, url, headers=sent, **kwargs)
            self.learn(url, response)
            return response

        response = attempt()
        if retry and proof is None and key is not None and asks_for_nonce(response) and self.current_nonce(url):
            response = attempt()  # the nonce the server just supplied (RFC 9449 section 8)
        return response

    # --------------------------------------------------------------------------- token endpoint
    @property
    def token_url(self) -> str:
        url = self.oauth.target.endpoint("token_endpoint")
        if url is None:
            raise PrerequisiteFailed("the metadata has no token_endpoint")
        return url

    def token(
        self, client: Client, data: dict[str, str | None], key: ProofKey | None, *, proof: str | None = None
    ) -> httpx.Response:
        form, headers = self.oauth.token_form(client, data)
        return self.send("POST", self.token_url, key, proof=proof, data=form, headers=headers)

    def exchange(self, authorization: Authorization, key: ProofKey | None, **kwargs: Any) -> httpx.Response:
        data: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": authorization.code,
            "redirect_uri": authorization.redirect_uri,
            "code_verifier": authorization.verifier,
        }
        if self.oauth.target.profile.request.send_resource and self.oauth.resource:
            data["resource"] = self.oauth.resource
        return self.token(authorization.client, data, key, **kwargs)

    def tokens(self, client: Client, key: ProofKey, **authorize: Any) -> Tokens:
        """A code flow whose exchange carries a proof by ``key`` (else the test is not_tested)."""
        response = self.exchange(self.oauth.code(client, **authorize), key)
        if response.status_code != 200:
            raise PrerequisiteFailed(
                f"a code exchanged with a valid DPoP proof was refused (HTTP {response.status_code}"
                f" {error_code(response)}); see RFC9449-5-TOKEN-TYPE"
            )
        return Tokens.from_response(response)

    def prime(self, client: Client) -> None:
        """Learn the token endpoint's nonce, if it supplies one, with a token request it must refuse anyway."""
        if self.current_nonce(self.token_url) is not None:
            return
        throwaway = ProofKey.new()
        data: dict[str, str | None] = {
            "grant_type": "refresh_token",
            "refresh_token": f"unknown-{secrets.token_hex(8)}",
        }
        self.token(client, data, throwaway)

    # -------------------------------------------------------------------------------- resource
    def call_resource(
        self, access_token: str, key: ProofKey | None, *, proof: str | None = None, url: str | None = None
    ) -> httpx.Response:
        target = url or self.oauth.resource_url
        method = self.oauth.target.profile.resource.method
        headers = {"Authorization": f"DPoP {access_token}"}
        return self.send(method, target, key, proof=proof, access_token=access_token, headers=headers)
