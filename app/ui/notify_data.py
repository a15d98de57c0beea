"""The Notifications page's data functions (reads cached per principal, writes clear every cache).

Kept beside :mod:`app.ui.data`, with the same rules: the page calls these, never the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.db import session_scope
from app.ui.data import _account, _session, _who, clear_caches, scoped_cache

__all__ = ["NotificationsView", "add_email", "add_webhook", "notifications", "remove_channel", "send_test"]


@dataclass(frozen=True)
class NotificationsView:
    states: list  # app.store.alert_states.StateRow
    events: list  # app.store.alert_states.EventRow
    channels: list  # app.store.outbox.ChannelRow
    deliveries: list  # app.store.outbox.DeliveryRow
    attempts: list  # app.store.outbox.AttemptRow
    allow_private: bool
    smtp_configured: bool


@scoped_cache
def notifications(slug: str) -> NotificationsView:
    """Everything the Notifications page shows of the account: states, history, channels, deliveries, attempts."""
    from app.notify.mailer import smtp_settings
    from app.notify.sender import allow_private
    from app.store import alert_states, outbox

    with _session() as s:
        acc, who = _account(s, slug), _who()
        return NotificationsView(
            states=alert_states.list_states(s, who, acc),
            events=alert_states.list_alert_events(s, who, acc, limit=200),
            channels=outbox.list_channels(s, who, acc),
            deliveries=outbox.list_deliveries(s, who, acc, limit=100),
            attempts=outbox.list_attempts(s, who, acc, limit=100),
            allow_private=allow_private(),
            smtp_configured=smtp_settings() is not None,
        )


def add_webhook(slug: str, url: str) -> tuple[int, str]:
    """Add a webhook channel; returns its id and its secret, which the page shows once."""
    from app.store import outbox

    with session_scope(write=True) as s:
        channel, secret = outbox.add_webhook(s, _who(), _account(s, slug), url)
        channel_id = channel.id
    clear_caches()
    return channel_id, secret


def add_email(slug: str, addresses: str) -> int:
    from app.store import outbox

    with session_scope(write=True) as s:
        channel_id = outbox.add_email(s, _who(), _account(s, slug), addresses).id
    clear_caches()
    return channel_id


def remove_channel(slug: str, channel_id: int) -> None:
    from app.store import outbox

    with session_scope(write=True) as s:
        outbox.remove_channel(s, _who(), _account(s, slug), channel_id)
    clear_caches()


def send_test(slug: str, channel_id: int) -> str:
    """Queue a test event to one channel; returns its ``webhook-id``."""
    from app.store import outbox

    with session_scope(write=True) as s:
        msg_id = outbox.send_test(s, _who(), _account(s, slug), channel_id).msg_id
    clear_caches()
    return msg_id
