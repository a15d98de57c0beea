"""``overseer notify …``: manage an account's notification channels and run the worker.

Registered by :func:`app.cli.build_parser`; refusals are ``OverseerError``s that
:func:`app.cli.main` prints in one line (exit status 2, nothing written), as for every other command.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

__all__ = ["add_notify_parser"]


def _ops():
    from app import cli

    return cli


def _channel_id(text: str) -> int:
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise argparse.ArgumentTypeError(f"must be a channel number, got {text[:60]!r}")
    return int(digits)


def cmd_add_webhook(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.outbox import add_webhook

    cli = _ops()
    with session_scope(write=True) as session:
        account = get_account(session, args.account, principal=cli.OPERATOR)
        channel, secret = add_webhook(session, cli.OPERATOR, account, args.url)
    if args.json:
        cli._print_json({"id": channel.id, "url": channel.target, "secret": secret})
    else:
        print(f"Added webhook {channel.id} of {args.account}: {channel.target}")
        print(f"Secret (shown once, keep it to verify signatures): {secret}")
    return 0


def cmd_add_email(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.outbox import add_email

    cli = _ops()
    with session_scope(write=True) as session:
        account = get_account(session, args.account, principal=cli.OPERATOR)
        channel = add_email(session, cli.OPERATOR, account, " ".join(args.addresses))
    if args.json:
        cli._print_json({"id": channel.id, "addresses": channel.target.split(", ")})
    else:
        print(f"Added e-mail channel {channel.id} of {args.account}: {channel.target}")
    return 0


def cmd_list(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.outbox import list_channels

    cli = _ops()
    with session_scope() as session:
        account = get_account(session, args.account, principal=cli.OPERATOR)
        rows = list_channels(session, cli.OPERATOR, account)
    if args.json:
        cli._print_json([
            {"id": r.id, "kind": r.kind, "target": r.target, "secret_fingerprint": r.fingerprint or None,
             "created_at": r.created_at.isoformat(), "created_by": r.created_by,
             "delivered": r.delivered, "pending": r.pending, "failed": r.failed}
            for r in rows
        ])
        return 0
    if not rows:
        print(f"No channel yet: add one with 'overseer notify add-webhook --account {args.account} --url https://…'.")
    for r in rows:
        secret = f" (secret …{r.fingerprint})" if r.fingerprint else ""
        print(f"{r.id}  {r.kind:<7} {r.target}{secret}  delivered {r.delivered}, pending {r.pending}, failed {r.failed}")
    return 0


def cmd_remove(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.outbox import remove_channel

    cli = _ops()
    with session_scope(write=True) as session:
        account = get_account(session, args.account, principal=cli.OPERATOR)
        channel = remove_channel(session, cli.OPERATOR, account, args.id)
    print(f"Removed {channel.kind} channel {channel.id} of {args.account}; its pending deliveries are cancelled")
    return 0


def cmd_test(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.outbox import send_test

    cli = _ops()
    with session_scope(write=True) as session:
        account = get_account(session, args.account, principal=cli.OPERATOR)
        event = send_test(session, cli.OPERATOR, account, args.id)
    print(f"Queued test event {event.msg_id} to channel {args.id}; 'overseer notify run --once' sends it now")
    return 0


def cmd_run(args) -> int:
    from app.core.db import get_engine
    from app.notify.worker import run_forever, run_once

    engine = get_engine()
    if args.once:
        report = run_once(engine, evaluate=not args.no_evaluate)
        print(report.summary())
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print("Notification worker running; Ctrl-C stops it", file=sys.stderr)
    run_forever(
        engine, stop=stop, interval=args.interval, sweep_every=args.sweep_every,
        on_pass=lambda r: r.attempts and logging.info(r.summary()),
    )
    return 0


def cmd_bench(args) -> int:
    from app.notify.bench import run

    if not 1 <= args.accounts <= 100_000:
        from app.domain.errors import OverseerError

        raise OverseerError(f"--accounts must be from 1 to 100,000, got {args.accounts}")
    run(args.accounts, args.workdir)
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text[:60]!r}") from None
    if not 0.1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"must be between 0.1 and 86400 seconds, got {text[:60]!r}")
    return value


def add_notify_parser(sub, parser_class) -> None:
    """Add ``notify`` and its commands to the ``overseer`` parser's subcommands."""
    p = sub.add_parser("notify", help="alert notifications: webhooks and e-mail per account, and the worker that sends them")
    notify_sub = p.add_subparsers(dest="notify_command", required=True, parser_class=parser_class)

    p = notify_sub.add_parser("add-webhook", help="send the account's events to an https URL (prints its secret once)")
    p.add_argument("--account", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--json", action="store_true", help='print {"id", "url", "secret"}')
    p.set_defaults(func=cmd_add_webhook)

    p = notify_sub.add_parser("add-email", help="send the account's events to e-mail addresses")
    p.add_argument("addresses", nargs="+", help="one or more addresses")
    p.add_argument("--account", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_add_email)

    p = notify_sub.add_parser("list", help="the account's channels (never their secrets)")
    p.add_argument("--account", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = notify_sub.add_parser("remove", help="remove a channel; its pending deliveries are cancelled")
    p.add_argument("id", type=_channel_id)
    p.add_argument("--account", required=True)
    p.set_defaults(func=cmd_remove)

    p = notify_sub.add_parser("test", help="queue a notification.test event to one channel")
    p.add_argument("id", type=_channel_id)
    p.add_argument("--account", required=True)
    p.set_defaults(func=cmd_test)

    p = notify_sub.add_parser("run", help="evaluate alert states and send what is due; without --once, keep running")
    p.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
    p.add_argument("--no-evaluate", action="store_true", help="only send what is due, without evaluating the accounts")
    p.add_argument("--interval", type=_seconds, default=2.0, help="seconds between delivery passes (default 2)")
    p.add_argument("--sweep-every", type=_seconds, default=300.0,
                   help="seconds between evaluations of every account (default 300)")
    p.set_defaults(func=cmd_run)

    p = notify_sub.add_parser("bench", help="time evaluating the alert states of many accounts (target: 1,000 under 10 s)")
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--workdir", help="folder for the SQLite database (default: a temporary one)")
    p.set_defaults(func=cmd_bench)
