"""E-mail notifications through the SMTP server the operator names.

Settings, the environment first, then ``.streamlit/secrets.toml``'s ``[smtp]``
table (in the working folder, then in the repository):

=========================  ==============  ==========================================
environment                ``[smtp]`` key  meaning
=========================  ==============  ==========================================
``OVERSEER_SMTP_HOST``     ``host``        the server (no server: e-mail is not sent)
``OVERSEER_SMTP_PORT``     ``port``        default 587 (465 with ``tls = "ssl"``)
``OVERSEER_SMTP_USER``     ``username``    log in when set
``OVERSEER_SMTP_PASSWORD`` ``password``
``OVERSEER_SMTP_FROM``     ``from``        the sender address (default ``overseer@<host>``)
``OVERSEER_SMTP_TLS``      ``tls``         ``starttls`` (default), ``ssl`` or ``none``
=========================  ==============  ==========================================
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import time
import tomllib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from app.core.config import REPO_ROOT
from app.store.outbox import SendResult

__all__ = ["SmtpSettings", "send_email", "smtp_settings"]

TIMEOUT = 10.0
_KEYS = {"host": "HOST", "port": "PORT", "username": "USER", "password": "PASSWORD", "from": "FROM", "tls": "TLS"}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    sender: str
    tls: str


def _secrets_table() -> dict:
    for folder in (Path.cwd(), REPO_ROOT):
        path = folder / ".streamlit" / "secrets.toml"
        try:
            with path.open("rb") as handle:
                table = tomllib.load(handle).get("smtp")
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(table, dict):
            return table
    return {}


def smtp_settings() -> SmtpSettings | None:
    """The SMTP settings in force, or None when no server is named."""
    table = _secrets_table()

    def get(key: str) -> str:
        env = os.environ.get(f"OVERSEER_SMTP_{_KEYS[key]}", "").strip()
        return env or str(table.get(key, "") or "").strip()

    host = get("host")
    if not host:
        return None
    tls = (get("tls") or "starttls").lower()
    if tls not in ("starttls", "ssl", "none"):
        tls = "starttls"
    port_text = get("port")
    port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65536 else (465 if tls == "ssl" else 587)
    return SmtpSettings(host, port, get("username"), get("password"), get("from") or f"overseer@{host}", tls)


SUBJECTS = {
    "alert.triggered": "Overseer alert for {account}: {rule} is {to}",
    "alert.resolved": "Overseer: {rule} of {account} is back to {to}",
    "allowance.exhausted": "Overseer: {account} has used its free allowance",
    "invoice.finalized": "Overseer: invoice {number} of {account} is final",
    "notification.test": "Overseer: a test event for {account}",
}


def compose(event_type: str, body: str, sender: str, recipients: list[str], msg_id: str) -> EmailMessage:
    """The e-mail for one event: a short subject, the event's message, and the whole event as JSON."""
    data = json.loads(body).get("data", {})
    fields = {k: data.get(k, "") for k in ("account", "rule", "to", "number")}
    message = EmailMessage()
    message["Subject"] = SUBJECTS.get(event_type, "Overseer: {account}").format(**fields)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["X-Overseer-Event"] = msg_id
    text = data.get("message") or ""
    message.set_content(f"{text}\n\nThe event as sent to webhooks:\n\n{json.dumps(json.loads(body), indent=2)}\n")
    return message


def send_email(recipients: list[str], event_type: str, body: str, msg_id: str, *, settings: SmtpSettings | None = None) -> SendResult:
    """Send one event by e-mail; never raises for anything the server does."""
    started = time.monotonic()

    def done(ok: bool, error: str = "", status: int | None = None) -> SendResult:
        return SendResult(ok, status, int((time.monotonic() - started) * 1000), error)

    settings = settings or smtp_settings()
    if settings is None:
        return done(False, "no SMTP server is configured ([smtp] in .streamlit/secrets.toml or OVERSEER_SMTP_HOST)")
    try:
        message = compose(event_type, body, settings.sender, recipients, msg_id)
        if settings.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
        with client:
            if settings.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password)
            refused = client.send_message(message)
        if refused:
            return done(False, f"refused recipients: {', '.join(sorted(refused))}"[:300])
        return done(True)
    except smtplib.SMTPResponseException as exc:
        return done(False, f"SMTP {exc.smtp_code}: {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"[:300], exc.smtp_code)
    except (OSError, smtplib.SMTPException) as exc:
        return done(False, f"{type(exc).__name__}: {exc}"[:300])
