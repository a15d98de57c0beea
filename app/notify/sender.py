"""Sending one signed webhook: resolve, refuse what is not public, connect to the checked address, read a bounded answer.

The address a name resolves to is checked at every send, not only when the
webhook is saved (DNS can change; a name can be made to point inside the
network later), and the connection goes to the very address that was checked,
so a second lookup cannot swap it (DNS rebinding). For ``https`` the
certificate is still checked against the host name.

The answer is read with a limit (:data:`MAX_RESPONSE_BYTES`) and a deadline
(:data:`TIMEOUT` seconds for connecting and for the whole answer); a redirect
is never followed: it counts as a failure that names where it pointed.

``OVERSEER_WEBHOOKS_ALLOW_PRIVATE=1`` allows private, loopback and link-local
addresses and plain ``http`` (tests, on-premise receivers).

``webhook-timestamp`` is the real time, not ``OVERSEER_NOW``: receivers check it
against their own clock (Standard Webhooks' libraries refuse one more than five
minutes off), and it times the message on the wire, not an event of Overseer.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from app.domain.webhooks import WebhookRefused, check_url, refused_address, sign
from app.store.outbox import SendResult

__all__ = ["MAX_RESPONSE_BYTES", "TIMEOUT", "allow_private", "check_destination", "post_webhook"]

ALLOW_PRIVATE_ENV = "OVERSEER_WEBHOOKS_ALLOW_PRIVATE"
TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Overseer-Webhooks/1"


def allow_private() -> bool:
    """Whether ``OVERSEER_WEBHOOKS_ALLOW_PRIVATE`` is ``1`` (or ``true``/``yes``)."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes")


def _resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (tests replace this to point a name anywhere)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _open(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an address already checked (tests replace this to prove nothing is reached)."""
    return socket.create_connection((address, port), timeout=timeout)


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_destination(url: str) -> Destination:
    """Where ``url`` would be sent now: its parts and the checked address to connect to.

    Raises
    ------
    WebhookRefused
        The URL's form is refused, its host does not resolve, or it resolves to
        any address that is not public (unless private addresses are allowed).
    """
    private_ok = allow_private()
    scheme, host, port, path = check_url(url, allow_private=private_ok)
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise WebhookRefused(f"the host {host!r} does not resolve ({getattr(exc, 'strerror', None) or exc})") from None
    if not addresses:
        raise WebhookRefused(f"the host {host!r} does not resolve")
    if not private_ok:
        # Every address must be public: a name resolving to one public and one private address is refused.
        for address in addresses:
            why = refused_address(address)
            if why:
                raise WebhookRefused(f"refused: {host} resolves to {why}")
    return Destination(scheme, host, port, path, addresses[0])


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to a fixed address, whatever the host name resolves to by then."""

    def __init__(self, dest: Destination, timeout: float):
        super().__init__(dest.host, dest.port, timeout=timeout)
        self._dest = dest

    def connect(self) -> None:
        sock = _open(self._dest.address, self._dest.port, self.timeout)
        if self._dest.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self._dest.host)
        self.sock = sock


def post_webhook(url: str, secret: str, msg_id: str, body: bytes, *, timeout: float = TIMEOUT) -> SendResult:
    """POST one signed message; never raises for anything the receiver or the network does.

    Returns
    -------
    SendResult
        ``ok`` for a 2xx answer; otherwise the status code (if any) and what went wrong.
    """
    started = time.monotonic()

    def done(ok: bool, status: int | None = None, error: str = "") -> SendResult:
        return SendResult(ok, status, int((time.monotonic() - started) * 1000), error)

    try:
        dest = check_destination(url)
    except WebhookRefused as exc:
        return done(False, None, str(exc))
    stamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, msg_id, stamp, body),
    }
    conn = _PinnedConnection(dest, timeout)
    # Socket timeouts bound each read, not the whole answer: a receiver dripping a header byte every few
    # seconds would hold the worker indefinitely. At the deadline the connection is shut, ending any read.
    watchdog = threading.Timer(timeout, _shut, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", dest.path, body=body, headers=headers)
        response = conn.getresponse()
        # Read at most the limit, and give up at the deadline even if the receiver drips bytes slowly.
        got = 0
        while got <= MAX_RESPONSE_BYTES:
            if time.monotonic() - started > timeout:
                return done(False, response.status, f"the answer took longer than {timeout:g} s")
            chunk = response.read1(8192) if hasattr(response, "read1") else response.read(8192)
            if not chunk:
                break
            got += len(chunk)
        status = response.status
        if 300 <= status < 400:
            where = (response.getheader("location") or "")[:200]
            return done(False, status, f"redirect to {where!r} not followed" if where else "redirect not followed")
        if got > MAX_RESPONSE_BYTES and 200 <= status < 300:
            return done(True, status, f"answer cut at {MAX_RESPONSE_BYTES:,} bytes")
        if 200 <= status < 300:
            return done(True, status)
        return done(False, status, f"HTTP {status}")
    except (socket.timeout, TimeoutError):
        return done(False, None, f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() - started >= timeout:
            return done(False, None, f"no complete answer within {timeout:g} s")
        if isinstance(exc, ssl.SSLError):
            return done(False, None, f"TLS failed: {exc.reason or exc}")
        return done(False, None, f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"[:300])
    finally:
        watchdog.cancel()
        conn.close()


def _shut(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
