"""API keys as values: how one is made, shown, checked and stored (as a hash only).

A key reads ``ovs_`` followed by 8 hexadecimal characters (with ``ovs_``, the
*prefix*: not secret, unique, shown in lists and the audit trail) and 32
URL-safe random characters. Only its SHA-256 hash is stored: the secret part carries
192 random bits, so a fast hash is enough (no password stretching needed), and a
stolen database lets nobody call the API.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from app.domain.errors import OverseerError
from app.domain.storable import check_storable

WRITE = "write"
READ = "read"
#: ``write`` may also read.
SCOPES: tuple[str, ...] = (WRITE, READ)
PREFIX_LENGTH = 12
MAX_NAME = 200
_KEY = re.compile(r"ovs_[0-9a-f]{8}[A-Za-z0-9_-]{32}")


def new_key() -> tuple[str, str, str]:
    """A fresh key: ``(key, prefix, hash)``. The key is shown once and never stored."""
    key = f"ovs_{secrets.token_hex(4)}{secrets.token_urlsafe(24)}"
    return key, key[:PREFIX_LENGTH], key_hash(key)


def key_hash(key: str) -> str:
    """The stored form of ``key``: its SHA-256, in hex."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def well_formed(key: str) -> bool:
    """Whether ``key`` has the shape of a key (checked before any database read)."""
    return bool(_KEY.fullmatch(key))


def same_hash(a: str, b: str) -> bool:
    """Compare two hashes in constant time."""
    return hmac.compare_digest(a, b)


def check_scope(scope: str) -> str:
    """``scope`` when it is one of :data:`SCOPES`; :class:`OverseerError` otherwise."""
    if scope not in SCOPES:
        raise OverseerError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    return scope


def check_name(name: str | None) -> str:
    """A key's name, trimmed: at most 200 characters, storable (may be empty)."""
    text = (name or "").strip()
    if len(text) > MAX_NAME:
        raise OverseerError(f"the key's name has {len(text)} characters; at most {MAX_NAME} are allowed")
    check_storable(text, "the key's name")
    return text


def bearer_key(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None when there is none."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
