"""Command line: ``python -m app …`` or ``overseer …``.

Every command refuses bad input with exit status 2 and one line on standard
error, having written nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import date, datetime
from pathlib import Path

from app.core import clock
from app.core.config import REPO_ROOT
from app.domain.access import Principal
from app.domain.errors import OverseerError
from app.domain.plans import MAX_COUNT, MAX_SEATS

EXIT_BAD_INPUT = 2
# Whoever runs the command line can open the database itself: it acts with every right, and the
# audit trail records it as "command line (user@host)".
OPERATOR = Principal.operator()


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), like every other refusal."""

    def error(self, message):  # noqa: D401 - argparse API
        # argparse quotes a refused value whole; a megabyte argument must not become a megabyte line.
        if len(message) > 300:
            message = message[:300] + "…"
        raise OverseerError(f"{message} (see '{self.prog} --help')")


def _whole(text: str) -> int:
    """An argument that must be a whole number: ASCII digits (an optional minus), at most 12 of them.

    ``int()`` would also take "٣" and a 4,000-digit number; every count Overseer takes is far below 10^12.
    """
    digits = text.strip()
    if not re.fullmatch(r"-?[0-9]{1,12}", digits):
        raise argparse.ArgumentTypeError(f"must be a whole number below 10^12, got {_shown(text)}")
    return int(digits)


def _month(text: str) -> tuple[int, int]:
    try:
        parsed = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise OverseerError(f"month must be YYYY-MM, got {_shown(text)}") from None
    clock.check_year(parsed.year, "month")
    return parsed.year, parsed.month


def _date(text: str, what: str = "date") -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise OverseerError(f"{what} must be YYYY-MM-DD, got {_shown(text)}") from None
    clock.check_year(day.year, what)
    return day


def _as_of(text: str | None) -> datetime:
    if text is None:
        return clock.now()
    # A time without an offset is UTC, as everywhere in Overseer; years outside 1970-2100 are refused.
    return clock.parse_moment(text, "--as-of")


def _count(value: int | None, what: str, high: int = MAX_COUNT) -> int | None:
    if value is not None and value < 0:
        raise OverseerError(f"{what} must not be negative, got {value}")
    if value is not None and value > high:
        raise OverseerError(f"{what} must be at most {high:,}, got {_shown(value)}")
    return value


def _shown(value) -> str:
    """A value as a refusal quotes it: at most 60 characters of it (an argument may be megabytes)."""
    text = value if isinstance(value, str) else str(value) if not isinstance(value, int) or value.bit_length() < 200 else "a huge number"
    return repr(text) if len(text) <= 60 else f"{text[:60]!r}… ({len(text):,} characters)"


def _check_arguments(argv: list[str]) -> None:
    """Refuse an argument that is not valid UTF-8.

    Python hands such bytes over as lone surrogates (``surrogateescape``); no
    database stores them and no terminal prints them, so they are refused
    here, once, for every command: a slug, a name, an e-mail address or a file name.
    """
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            shown = shown if len(shown) <= 60 else shown[:60] + "…"
            raise OverseerError(
                f"the argument '{shown}' is not valid UTF-8; rename the file or retype the value"
            ) from None


def _print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _print_invoice_text(invoice) -> None:
    from app.domain.money import money_str

    width = max([len(line.description) for line in invoice.lines] + [20])
    for line in invoice.lines:
        print(f"{line.description:<{width}}  {line.quantity:>8}  {str(line.unit_price):>10}  {money_str(line.amount):>12}")
    print(f"{'Total':<{width}}  {'':>8}  {'':>10}  {money_str(invoice.total):>12} {invoice.currency}")
    print(f"Free outcomes used {invoice.free_used}, remaining {invoice.free_remaining}")
    if invoice.status == "final":
        print(f"Final invoice {invoice.number}, closed {invoice.closed_at.isoformat()}")
    elif invoice.status == "draft":
        print("Draft: it may still change until the month closes")
    for late in invoice.late:
        print(f"Holds {late.outcomes} late outcomes of {late.year:04d}-{late.month:02d}")
    if invoice.projected is not None:
        p = invoice.projected
        print(
            f"Projected: {p.outcomes} outcomes, {money_str(p.total)} {invoice.currency} "
            f"(80% range {money_str(p.low)}–{money_str(p.high)})"
            + (f", free allowance runs out {p.allowance_runs_out.isoformat()}" if p.allowance_runs_out else "")
        )


# --- commands -----------------------------------------------------------------------------------


def cmd_demo(args) -> int:
    from app.core.db import session_scope
    from app.store.demo import load_demo

    with session_scope() as session:
        accounts = load_demo(session, reset=args.reset)
        names = ", ".join(a.slug for a in accounts)
    print(f"{'Reset' if args.reset else 'Loaded'} the demo: {names}")
    return 0


def cmd_account_add(args) -> int:
    from app.core.db import session_scope
    from app.domain.plans import load_plan_file
    from app.store.accounts import create_account

    plan = load_plan_file(args.plan)
    since = _date(args.since, "--since") if args.since else None
    with session_scope() as session:
        account = create_account(session, args.slug, args.name, plan, template=args.template, since=since)
        slug = account.slug
    print(f"Created account {slug} on plan {plan.name!r} with job {args.template}")
    return 0


def cmd_account_set(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.closing import set_grace_days

    with session_scope(write=True) as session:
        account = get_account(session, args.slug, principal=OPERATOR)
        set_grace_days(session, OPERATOR, account, args.grace_days)
    print(f"{args.slug}: a month's invoice is final {args.grace_days} days after the month ends")
    return 0


def cmd_plan_change(args) -> int:
    from app.core.db import session_scope
    from app.domain.plans import load_plan_file
    from app.store.accounts import get_account
    from app.store.subscriptions import change_plan

    plan = load_plan_file(args.plan)
    effective = None if args.effective in (None, "now") else _month(args.effective)
    seats = _count(args.seats, "--seats")
    with session_scope(write=True) as session:
        account = get_account(session, args.account, principal=OPERATOR)
        change_plan(session, OPERATOR, account, plan, seats=seats, effective=effective)
    when = "now" if effective is None else f"on {effective[0]:04d}-{effective[1]:02d}-01"
    print(f"{args.account} moves to plan {plan.name!r} {when}")
    return 0


def cmd_ingest(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.ingest import ingest_file

    path = Path(args.file)
    if not path.is_file():
        what = (
            "a folder, not a file" if path.is_dir()
            else "not a regular file (a device, a pipe or a socket)" if path.exists()
            else "no such file"
        )
        raise OverseerError(f"cannot read {_shown(args.file)}: {what}")
    with session_scope() as session:
        account = get_account(session, args.account, principal=OPERATOR)
        report = ingest_file(session, account, path, valid_only=args.valid_only, dry_run=args.dry_run)
    _print_json(report.to_json())
    if report.before_subscription and report.subscription_start is not None:
        print(
            f"overseer: {report.before_subscription:,} of these outcomes were completed before the subscription "
            f"started on {report.subscription_start.isoformat()}: stored, but never billed",
            file=sys.stderr,
        )
    if not (report.inserted or report.updated or report.unchanged or report.rejected):
        # Not an error (an export of a day without outcomes is a header alone), but worth a word.
        print("overseer: the file holds no outcomes; nothing to import", file=sys.stderr)
    if report.rejected and not args.valid_only:
        lines = len({error.line for error in report.rejected})
        print(
            f"overseer: error: {lines} invalid row(s), first at line {report.rejected[0].line}: "
            f"{report.rejected[0].reason}; nothing was imported (use --valid-only to import the valid rows)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return 0


def cmd_invoice(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.billing import invoice_for_month
    from app.store.closing import GRACE_CLOSER, close_due, close_through

    year, month = _month(args.month)
    if args.action == "close":
        if args.as_of:
            raise OverseerError("a month closes now: 'invoice close' takes no --as-of")
        if args.pdf is not None:
            raise OverseerError("'invoice close' writes no PDF: run 'invoice --pdf FILE' after it")
        with session_scope(write=True) as session:
            account = get_account(session, args.account, principal=OPERATOR)
            closed = close_through(session, OPERATOR, account, year, month, clock.now())
            done = [(row.number, row.total, row.currency, row.closed_by) for row in closed]
        if args.json:
            _print_json([{"number": n, "total": f"{t:.2f}", "currency": c, "closed_by": by} for n, t, c, by in done])
        else:
            for number, total, currency, by in done:
                why = " (its grace period had ended)" if by == GRACE_CLOSER else ""
                print(f"Closed {number}: {total:.2f} {currency}, final{why}")
        return 0
    as_of = _as_of(args.as_of)
    if args.pdf is not None:
        if args.json:
            raise OverseerError("--pdf and --json are two ways of writing the invoice: give one")
        target = _writable_file(args.pdf)
    with session_scope(write=True) as session:
        account = get_account(session, args.account, principal=OPERATOR)
        # Months past their grace period close before anything is shown, as on every page.
        close_due(session, account, clock.now())
        session.commit()
        invoice = invoice_for_month(session, account, year, month, as_of=as_of)
        name, slug = account.name, account.slug
    if args.pdf is not None:
        from app.domain.invoice_pdf import invoice_pdf

        document = invoice_pdf(invoice, account_name=name, account_slug=slug, as_of=as_of)
        _write_atomically(target, document, args.pdf)
        print(f"Wrote {'invoice ' + invoice.number if invoice.status == 'final' else 'the draft invoice'} "
              f"for {args.month} to {args.pdf} ({len(document):,} bytes)")
    elif args.json:
        _print_json(invoice.to_json())
    else:
        _print_invoice_text(invoice)
    return 0


def _write_atomically(path: Path, content: bytes, shown: str) -> None:
    """Write ``content`` to ``path`` through a temporary file beside it, so a failed write leaves nothing behind."""
    import tempfile

    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".overseer-", suffix=".part", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise OverseerError(f"cannot write {shown}: {exc.strerror or exc}") from None


def _writable_file(text: str) -> Path:
    """``text`` as a file path the invoice can be written to, checked before any work is done.

    Raises
    ------
    OverseerError
        When the folder does not exist or the path is a folder; the file itself
        is written only once the invoice is made, so a refusal writes nothing.
    """
    path = Path(text)
    if not text or path.is_dir():
        raise OverseerError(f"cannot write {text!r}: it is a folder, give a file name")
    if not path.parent.is_dir():
        raise OverseerError(f"cannot write {text}: no such folder {str(path.parent)!r}")
    return path


def cmd_quote(args) -> int:
    from app.domain.invoice import quote
    from app.domain.plans import load_plan_file

    plan = load_plan_file(args.plan)
    for value, what, high in (
        (args.outcomes, "--outcomes", MAX_COUNT),
        (args.free_remaining, "--free-remaining", MAX_COUNT),
        (args.active_days, "--active-days", 31),
        (args.seats, "--seats", MAX_SEATS),
        (args.tasks, "--tasks", MAX_COUNT),
    ):
        _count(value, what, high)
    if args.month:
        year, month = _month(args.month)
    else:
        today = clock.now().date()
        year, month = today.year, today.month
    invoice = quote(
        plan,
        args.outcomes,
        free_remaining=args.free_remaining,
        active_days=args.active_days,
        year=year,
        month=month,
        seats=args.seats or 0,
        tasks=args.tasks or 0,
    )
    if args.json:
        _print_json(invoice.to_json())
    else:
        _print_invoice_text(invoice)
    return 0


def cmd_migrate(_args) -> int:
    from app.core.db import get_engine

    engine = get_engine()
    print(f"Database is at the newest schema: {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_start(args) -> int:
    """Load the demo into an empty database, then hand the process over to ``streamlit run``."""
    from sqlmodel import select

    if not 1 <= args.port <= 65535:
        raise OverseerError(f"--port must be from 1 to 65535, got {_shown(args.port)}")
    from app.core.db import session_scope
    from app.models import Account
    from app.store.demo import load_demo

    with session_scope() as session:
        if not args.no_demo and session.exec(select(Account.id).limit(1)).first() is None:
            load_demo(session)
            print("Loaded the demo data into the empty database.")
    # The dashboard and the API (/api/v1) on one port: app/server.py is the st.App of both.
    entry = REPO_ROOT / "app" / "server.py"
    argv = [
        sys.executable, "-m", "streamlit", "run", str(entry),
        "--server.port", str(args.port),
        # Headless unless asked: a non-headless first run stops at Streamlit's e-mail prompt.
        "--server.headless", "false" if args.open_browser else "true",
        "--browser.gatherUsageStats", "false",
    ]
    print(f"Starting Overseer on http://localhost:{args.port} (API: http://localhost:{args.port}/api/v1)", flush=True)
    # Streamlit reads .streamlit/config.toml (theme, upload limit) from the working directory.
    os.chdir(REPO_ROOT)
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover - execv does not return


def cmd_key_create(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.api_keys import create_key

    with session_scope(write=True) as session:
        account = get_account(session, args.account, principal=OPERATOR)
        row, key = create_key(session, OPERATOR, account, args.scope, args.name or "")
    if args.json:
        _print_json({"id": row.id, "name": row.name, "prefix": row.prefix, "scope": row.scope, "key": key})
    else:
        print(key)
        print(f"overseer: {row.scope} key {row.prefix} for {args.account}: it is shown only now, keep it secret",
              file=sys.stderr)
    return 0


def cmd_key_revoke(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.api_keys import revoke_key

    with session_scope(write=True) as session:
        account = get_account(session, args.account, principal=OPERATOR)
        row = revoke_key(session, OPERATOR, account, args.key)
    print(f"Revoked key {row.prefix} of {args.account}")
    return 0


def cmd_key_list(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.api_keys import list_keys

    with session_scope() as session:
        account = get_account(session, args.account, principal=OPERATOR)
        rows = list_keys(session, OPERATOR, account)
    if args.json:
        _print_json([row.to_json() for row in rows])
    else:
        for row in rows:
            state = "revoked" if row.revoked_at else "active"
            print(f"{row.id}\t{row.prefix}\t{row.scope}\t{state}\t{row.name}")
    return 0


def cmd_bench(args) -> int:
    from app import bench

    if args.browser:
        from app import bench_browser

        if not 1_000 <= args.size <= MAX_COUNT or not 1 <= args.rounds <= 50:
            raise OverseerError(f"--size must be from 1,000 to {MAX_COUNT:,} and --rounds from 1 to 50")
        try:
            bench_browser.run(args.size, args.rounds, Path(args.workdir) if args.workdir else None, detail=args.detail)
        except RuntimeError as exc:
            raise OverseerError(str(exc)) from None
        return 0
    if args.api:
        from app import bench_api

        for value, what in ((args.api_rows, "--api-rows"), (args.clients, "--clients"), (args.singles, "--singles")):
            if not 1 <= value <= 10_000_000:
                raise OverseerError(f"{what} must be from 1 to 10,000,000, got {value}")
        bench_api.run(args.api_rows, args.clients, args.singles, Path(args.workdir) if args.workdir else None)
        return 0

    try:
        sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(","))
    except ValueError:
        raise OverseerError(f"--sizes must be whole numbers separated by commas, got {args.sizes!r}") from None
    if any(s <= 0 or s > MAX_COUNT for s in sizes) or not 0 <= args.import_rows <= MAX_COUNT:
        raise OverseerError(f"sizes must be from 1 to {MAX_COUNT:,} and --import-rows from 0 to {MAX_COUNT:,}")
    try:
        import duckdb  # noqa: F401
    except ImportError:
        raise OverseerError("the benchmark compares with DuckDB: install it with pip install -e '.[bench]'") from None
    bench.run(sizes, args.import_rows, Path(args.workdir) if args.workdir else None)
    return 0


def cmd_rollups_rebuild(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.rollups import rebuild_rollups

    with session_scope() as session:
        account_id = get_account(session, args.account, principal=OPERATOR).id if args.account else None
        rebuild_rollups(session, account_id=account_id)
    print(f"Rebuilt the daily rollups of {'account ' + args.account if args.account else 'every account'} from the stored outcomes")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="overseer", description="Overseer: outcomes, accuracy and the bill of AI products.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("start", help="load the demo into an empty database and start the dashboard")
    p.add_argument("--port", type=_whole, default=8501)
    p.add_argument("--open-browser", action="store_true", help="also open the dashboard in a browser")
    p.add_argument("--no-demo", action="store_true", help="start on an empty database")
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("bench", help="measure page and import cost as the stored outcomes grow")
    p.add_argument("--sizes", default=",".join(str(s) for s in (10_000, 100_000, 1_000_000, 5_000_000)),
                   help="outcomes per benchmark account, comma-separated")
    p.add_argument("--import-rows", type=_whole, default=1_000_000, help="rows of the imported CSV (0: skip)")
    p.add_argument("--workdir", help="folder for the SQLite database and CSV files (default: a temporary one)")
    p.add_argument("--api", action="store_true",
                   help="measure the API instead: batches of 1,000 beside ingest_file, and single POSTs from concurrent clients")
    p.add_argument("--api-rows", type=_whole, default=20_000, help="with --api: outcomes sent in batches of 1,000")
    p.add_argument("--clients", type=_whole, default=16, help="with --api: concurrent clients of single POSTs")
    p.add_argument("--singles", type=_whole, default=50, help="with --api: single-outcome POSTs per client")
    p.add_argument("--browser", action="store_true",
                   help="measure in Chromium instead: how soon pages show their figures, beside a bare Streamlit page")
    p.add_argument("--size", type=_whole, default=1_000_000,
                   help="with --browser: outcomes of the account (1,000,000 gives 1,018,505); kept in --workdir")
    p.add_argument("--rounds", type=_whole, default=5, help="with --browser: loads of each page (the median is shown)")
    p.add_argument("--detail", action="store_true", help="with --browser: also list the Overview's resources")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("key", help="API keys of an account (the key is shown once)")
    key_sub = p.add_subparsers(dest="key_command", required=True, parser_class=_Parser)
    p = key_sub.add_parser("create", help="make an API key; prints the key once")
    p.add_argument("--account", required=True)
    p.add_argument("--scope", required=True, choices=["write", "read"])
    p.add_argument("--name", default="")
    p.add_argument("--json", action="store_true", help='print {"id", "name", "prefix", "scope", "key"}')
    p.set_defaults(func=cmd_key_create)
    p = key_sub.add_parser("revoke", help="revoke a key by its id or prefix")
    p.add_argument("key", metavar="ID_OR_PREFIX")
    p.add_argument("--account", required=True)
    p.set_defaults(func=cmd_key_revoke)
    p = key_sub.add_parser("list", help="the account's keys (never the keys themselves)")
    p.add_argument("--account", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_key_list)

    p = sub.add_parser("migrate", help="bring the database to the newest schema")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="load the demo accounts")
    p.add_argument("--reset", action="store_true", help="delete and regenerate the demo accounts")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("account", help="manage accounts")
    account_sub = p.add_subparsers(dest="account_command", required=True, parser_class=_Parser)
    p = account_sub.add_parser("add", help="create an account on a plan with one job")
    p.add_argument("slug")
    p.add_argument("--name", required=True)
    p.add_argument("--plan", required=True, help="plan JSON file (see data/plans/)")
    p.add_argument("--template", default="customer-support",
                   help="job template: customer-support, data-analysis or report-generation")
    p.add_argument("--since", help="subscription start, YYYY-MM-DD (default: today)")
    p.set_defaults(func=cmd_account_add)
    p = account_sub.add_parser("set", help="change an account's settings")
    p.add_argument("slug")
    p.add_argument("--grace-days", type=int, required=True,
                   help="days after a month ends before its invoice is final by itself (0-30)")
    p.set_defaults(func=cmd_account_set)

    p = sub.add_parser("plan", help="an account's plan over time")
    plan_sub = p.add_subparsers(dest="plan_command", required=True, parser_class=_Parser)
    p = plan_sub.add_parser("change", help="put the account on another plan, now or from a later month")
    p.add_argument("--account", required=True)
    p.add_argument("--plan", required=True, help="plan JSON file (see data/plans/)")
    p.add_argument("--effective", default="now", help="now (default) or YYYY-MM, the first day of a later month")
    p.add_argument("--seats", type=int, help="seats from then on (default: as now)")
    p.set_defaults(func=cmd_plan_change)

    p = sub.add_parser("member", help="who belongs to which account, as viewer or admin")
    member_sub = p.add_subparsers(dest="member_command", required=True, parser_class=_Parser)
    p = member_sub.add_parser("set", help="give someone a role in an account (adds them if needed)")
    p.add_argument("email")
    p.add_argument("--account", required=True)
    p.add_argument("--role", required=True, choices=["viewer", "admin"])
    p.set_defaults(func=cmd_member_set)
    p = member_sub.add_parser("remove", help="take someone out of an account")
    p.add_argument("email")
    p.add_argument("--account", required=True)
    p.set_defaults(func=cmd_member_remove)
    p = member_sub.add_parser("list", help="everyone known, with their accounts and roles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_member_list)

    p = sub.add_parser("staff", help="Overseer's own product and sales people: every account, portfolio, demo")
    staff_sub = p.add_subparsers(dest="staff_command", required=True, parser_class=_Parser)
    for verb, text in (("add", "make someone staff"), ("remove", "make someone no longer staff")):
        p = staff_sub.add_parser(verb, help=text)
        p.add_argument("email")
        p.set_defaults(func=cmd_staff)

    p = sub.add_parser("ingest", help="import outcomes from a CSV or JSON Lines file")
    p.add_argument("file")
    p.add_argument("--account", required=True)
    p.add_argument("--valid-only", action="store_true", help="import the valid rows and report the rest")
    p.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("rollups", help="maintain the daily rollups every figure is read from")
    rollups_sub = p.add_subparsers(dest="rollups_command", required=True, parser_class=_Parser)
    p = rollups_sub.add_parser("rebuild", help="recompute the rollups from the stored outcomes")
    p.add_argument("--account", help="only this account's (slug); default every account's")
    p.set_defaults(func=cmd_rollups_rebuild)

    p = sub.add_parser("invoice", help="an account's invoice for a month; 'invoice close' makes a month final")
    p.add_argument("action", nargs="?", choices=["close"],
                   help="close: make the month's invoice final now, and every open month before it")
    p.add_argument("--account", required=True)
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--as-of", help="ISO 8601 time (default: now)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--pdf", metavar="FILE", help="write the invoice to FILE as a PDF document")
    p.set_defaults(func=cmd_invoice)

    p = sub.add_parser("quote", help="price N billable outcomes in one month under a plan")
    p.add_argument("--plan", required=True)
    p.add_argument("--outcomes", type=_whole, required=True)
    p.add_argument("--free-remaining", type=_whole)
    p.add_argument("--active-days", type=_whole)
    p.add_argument("--month", help="YYYY-MM (default: this month)")
    p.add_argument("--seats", type=_whole)
    p.add_argument("--tasks", type=_whole)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_quote)

    from app.notify.cli import add_notify_parser

    add_notify_parser(sub, _Parser)
    return parser


def cmd_member_set(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.members import set_member

    with session_scope() as session:
        account = get_account(session, args.account, principal=OPERATOR)
        member = set_member(session, OPERATOR, account, args.email, args.role)
    print(f"{member.email} is {member.role} of {args.account}")
    return 0


def cmd_member_remove(args) -> int:
    from app.core.db import session_scope
    from app.store.accounts import get_account
    from app.store.members import remove_member

    with session_scope() as session:
        remove_member(session, OPERATOR, get_account(session, args.account, principal=OPERATOR), args.email)
    print(f"{args.email} no longer belongs to {args.account}")
    return 0


def cmd_member_list(args) -> int:
    from app.core.db import session_scope
    from app.store.members import list_people

    with session_scope() as session:
        people = list_people(session, OPERATOR)
    if args.json:
        _print_json([
            {"email": p.email, "name": p.name, "staff": p.staff, "accounts": [{"account": a, "role": r} for a, r in p.accounts]}
            for p in people
        ])
        return 0
    if not people:
        print("Nobody yet: add someone with 'overseer member set EMAIL --account SLUG --role admin'.")
    for p in people:
        roles = ", ".join(f"{a} ({r})" for a, r in p.accounts) or "no account"
        print(f"{p.email}{' [staff]' if p.staff else ''}: {roles}")
    return 0


def cmd_staff(args) -> int:
    from app.core.db import session_scope
    from app.store.members import set_staff

    with session_scope() as session:
        set_staff(session, OPERATOR, args.email, args.staff_command == "add")
    print(f"{args.email} is {'now' if args.staff_command == 'add' else 'no longer'} staff")
    return 0


def _tolerant_streams() -> None:
    # Whatever reaches the terminal (a file name, a value quoted back) must never fail to print:
    # an unprintable character is written as an escape instead of raising UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # not a text stream we may reconfigure
            pass


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy.exc import DBAPIError

    from app.core.db import database_problem

    _tolerant_streams()
    try:
        _check_arguments(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(argv)
        clock.check()
        return args.func(args)
    except OverseerError as exc:
        print(f"overseer: error: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_BAD_INPUT
    except DBAPIError as exc:
        print(f"overseer: error: {database_problem(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return 0
