"""Standard Webhooks (https://www.standardwebhooks.com): secrets, signatures, the retry schedule and address rules.

Pure rules; the sending is in :mod:`app.notify.sender`, the rows in :mod:`app.store.outbox`.

- A secret is ``whsec_`` + base64 of 24 random bytes; the key that signs is
  those bytes.
- A message is signed as ``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")),
  in the ``webhook-signature`` header beside ``webhook-id`` and ``webhook-timestamp``
  (seconds since the epoch).
- A failed delivery is tried again after :data:`RETRY_DELAYS` (5 s, 5 min,
  30 min, 2 h, 5 h, 10 h), then marked failed: seven attempts in all.
- A webhook's address must be ``https`` and must not resolve to a loopback,
  private, link-local (cloud metadata), multicast, reserved or otherwise
  non-global address, unless the operator allows private addresses (which also
  allows plain ``http``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from app.domain.errors import OverseerError

__all__ = [
    "EVENT_TYPES", "MAX_URL", "RETRY_DELAYS", "WebhookRefused", "body_bytes", "check_url", "message_id", "new_secret",
    "next_attempt_at", "refused_address", "secret_fingerprint", "sign",
]

EVENT_TYPES = ("alert.triggered", "alert.resolved", "allowance.exhausted", "invoice.finalized", "notification.test")
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
MAX_URL = 2000
SECRET_PREFIX = "whsec_"


class WebhookRefused(OverseerError):
    """A webhook address Overseer will not send to; the message says why."""


def new_secret() -> str:
    """A fresh ``whsec_…`` secret (24 random bytes, as Standard Webhooks' own libraries make)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret)


def secret_fingerprint(secret: str) -> str:
    """Eight hex digits that tell two secrets apart on a page without showing either (SHA-256 of the key)."""
    return hashlib.sha256(_key(secret)).hexdigest()[:8]


def message_id(token: str) -> str:
    """The ``webhook-id`` of an event: ``msg_`` + a token fixed when the event is stored, so every retry carries it."""
    return f"msg_{token}"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value for one message.

    Parameters
    ----------
    secret : str
        The endpoint's ``whsec_…`` secret.
    msg_id : str
        The ``webhook-id``.
    timestamp : int
        The ``webhook-timestamp``, seconds since the epoch.
    body : bytes
        The exact bytes sent.
    """
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def body_bytes(event_type: str, timestamp: datetime, data: dict) -> bytes:
    """The body ``{"type", "timestamp", "data"}`` as compact JSON, its time in UTC with a ``Z``."""
    stamp = timestamp.isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": stamp, "data": data}, separators=(",", ":"), ensure_ascii=False).encode()


def next_attempt_at(attempts: int, at: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, the last at ``at``; None when the schedule is over."""
    if attempts < 1 or attempts > len(RETRY_DELAYS):
        return None
    return at + RETRY_DELAYS[attempts - 1]


def refused_address(address: str) -> str | None:
    """Why an IP address may not receive webhooks (None when it may): anything not on the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # "%eth0": an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return f"{address} is a loopback address"
    if ip.is_link_local:
        return f"{address} is a link-local address (where cloud metadata services answer)"
    if ip.is_private:
        return f"{address} is a private address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return f"{address} is not a public internet address"
    return None


def check_url(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    """The parts of a webhook URL worth sending to: ``(scheme, host, port, path with query)``.

    Only the form is checked here; where the host resolves is checked by the
    sender, when saving and again at every send.

    Raises
    ------
    WebhookRefused
        Not an ``https`` URL (``http`` too when ``allow_private``), no host,
        credentials in it, a bad port, longer than :data:`MAX_URL`, or an IP
        address that may not receive webhooks.
    """
    text = (url or "").strip()
    if not text:
        raise WebhookRefused("the webhook URL is empty")
    if len(text) > MAX_URL:
        raise WebhookRefused(f"the webhook URL is longer than {MAX_URL:,} characters")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in text):
        raise WebhookRefused("the webhook URL holds a space or a control character")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise WebhookRefused(f"the webhook URL cannot be read ({exc})") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in allowed:
        raise WebhookRefused(
            "a webhook URL must start with https://"
            + ("" if allow_private else " (plain http only where OVERSEER_WEBHOOKS_ALLOW_PRIVATE=1)")
        )
    if not parts.hostname:
        raise WebhookRefused("the webhook URL names no host")
    if parts.username or parts.password:
        raise WebhookRefused("the webhook URL must not hold a user name or password; the signature authenticates")
    host = parts.hostname
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        literal = True
    except ValueError:
        literal = False
    if literal and not allow_private:
        why = refused_address(host)
        if why:
            raise WebhookRefused(f"refused: {why}")
    scheme = parts.scheme.lower()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path
