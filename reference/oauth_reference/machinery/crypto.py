"""Random identifiers, hashes, constant-time comparison and props encryption.

Secrets (codes, tokens, client secrets) are stored only as SHA-256 hashes. A grant's ``props``
are encrypted with AES-256-GCM under a fresh random key, and that key is stored only wrapped
(AES key wrap, RFC 3394) under a key derived from each token that may read it, so a dump of the
store reveals neither a usable secret nor any props.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from typing import Any
from typing import Final

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Domain separation for the key-encryption key; not a secret (the token is).
_WRAP_CONTEXT: Final = hashlib.sha256(b"oauth-reference/props-key-wrap/v1").digest()


def random_string(length: int) -> str:
    """A random string over a 64-symbol alphabet: 6 bits of entropy per character, unbiased."""
    # OAUTH21-7.7-ENTROPY: the callers' lengths give codes, tokens and secrets at least 128 bits.
    if length % 4 == 0:
        # base64url of 3n/4 random bytes is n characters over the same alphabet, 6 bits each.
        return base64.urlsafe_b64encode(os.urandom(length * 3 // 4)).decode("ascii")
    return "".join(ALPHABET[b & 63] for b in os.urandom(length))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def equal(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_props_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encrypt_props(props: Any, key: bytes) -> str:
    """AES-256-GCM with a random 96-bit nonce; the result is ``base64(nonce || ciphertext)``."""
    nonce = secrets.token_bytes(12)
    return b64(nonce + AESGCM(key).encrypt(nonce, orjson.dumps(props), None))


def decrypt_props(blob: str, key: bytes) -> Any:
    return orjson.loads(decrypt_props_json(blob, key))


def decrypt_props_json(blob: str, key: bytes) -> bytes:
    """The props' JSON bytes (what :func:`encrypt_props` encrypted)."""
    raw = unb64(blob)
    return AESGCM(key).decrypt(raw[:12], raw[12:], None)


# HMAC keyed with the (public) context, its key schedule computed once; copied for each token.
_KEK_HMAC: Final = hmac.new(_WRAP_CONTEXT, digestmod=hashlib.sha256)


def _kek(token: str) -> bytes:
    mac = _KEK_HMAC.copy()
    mac.update(token.encode("utf-8"))
    return mac.digest()


def wrap_key(key: bytes, token: str) -> str:
    """Wrap ``key`` so that only a holder of ``token`` can unwrap it."""
    return b64(aes_key_wrap(_kek(token), key))


def unwrap_key(wrapped: str, token: str) -> bytes:
    return aes_key_unwrap(_kek(token), unb64(wrapped))
