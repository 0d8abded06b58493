"""Tokens for links sent to people: random, stored only as a SHA-256 hash, looked up by hash.

A poster must show the same link every time it is printed, and a reminder e-mail must carry
the same link as the first one, so the token itself is not stored: it is an HMAC of a random
256-bit nonce under the site's secret key. The database holds the nonce and the hash of the
token; someone who reads the database without the secret key cannot rebuild a token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.utils.crypto import salted_hmac

NONCE_BYTES = 32


def new_nonce() -> str:
    """A fresh random nonce (256 bits) as hex."""
    return secrets.token_hex(NONCE_BYTES)


def token_from_nonce(purpose: str, nonce: str) -> str:
    """The URL token for a nonce: 256 bits, URL-safe, 43 characters."""
    digest = salted_hmac(f"referrals.token.{purpose}", nonce, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256 hex digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token_pair(purpose: str) -> tuple[str, str]:
    """A new (nonce, token_hash) to store on a model."""
    nonce = new_nonce()
    return nonce, hash_token(token_from_nonce(purpose, nonce))


def looks_like_token(token: str) -> bool:
    """Cheap shape check before touching the database (43 URL-safe characters)."""
    return len(token) == 43 and all(c.isalnum() or c in "-_" for c in token)
