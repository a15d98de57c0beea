"""The hostile corpus of plans, command-line arguments, environment values and database URLs.

Every case must be refused the same way on SQLite and PostgreSQL: exit status 2, exactly one line on
standard error, no traceback, nothing written (README, "Command line"). Add a case here and every test
under ``tests/hostile`` that reads this module tries it.
"""

from __future__ import annotations

import json

from sqlalchemy.engine import make_url

GOOD_PLAN = {"name": "Freemium", "currency": "USD", "free_outcomes": 30, "base_fee": "100.00",
             "included_outcomes": 0, "outcome_price": "1.00"}


def _plan(**changes) -> str:
    return json.dumps({**GOOD_PLAN, **changes})


# (case name, plan file text or bytes): every one is refused by account add and quote.
PLANS: list[tuple[str, str | bytes]] = [
    ("base fee 1e308", _plan(base_fee="1e308")),
    ("base fee 1e12", _plan(base_fee="1e12")),
    ("base fee just above a billion", _plan(base_fee="1000000000.000001")),
    ("outcome price 7 decimals", _plan(outcome_price="0.0000001")),
    ("seat price NaN", _plan(seat_price="NaN")),
    ("task price Infinity", _plan(task_price="Infinity")),
    ("negative amount", _plan(base_fee="-1")),
    ("amount as float", _plan(base_fee=1.5)),
    ("amount in Arabic-Indic digits", _plan(base_fee="٣")),
    ("amount of a million digits", _plan(base_fee="9" * 1_000_000)),
    ("free outcomes superscript two", _plan(free_outcomes="²")),
    ("free outcomes 10^30", _plan(free_outcomes=10**30)),
    ("free outcomes 2^31", _plan(free_outcomes=2**31)),
    ("free outcomes true", _plan(free_outcomes=True)),
    ("free outcomes 2.5", _plan(free_outcomes=2.5)),
    ("included outcomes negative", _plan(included_outcomes=-1)),
    ("included outcomes of 5000 digits", _plan().replace('"included_outcomes": 0', '"included_outcomes": 1' + "0" * 5000)),
    ("name with NUL", _plan(name="Free\x00mium")),
    ("name of a million characters", _plan(name="x" * 1_000_000)),
    ("name of 201 characters", _plan(name="x" * 201)),
    ("name with U+0085", _plan(name="\u0085")),
    ("name with an unpaired surrogate", _plan().replace('"Freemium"', '"Free\\ud800mium"')),
    ("name only spaces", _plan(name="   ")),
    ("currency long s", _plan(currency="uſd")),
    ("tier up_to 10^30", _plan(tiers=[{"up_to": 10**30, "unit_price": "1"}, {"up_to": None, "unit_price": "1"}])),
    ("tier flat fee 1e40", _plan(tiers=[{"up_to": None, "unit_price": "1", "flat_fee": "1e40"}])),
    ("a thousand tiers", _plan(tiers=[{"up_to": i + 1, "unit_price": "1"} for i in range(1000)] + [{"up_to": None, "unit_price": "1"}])),
    ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000),
    ("nested in a field", _plan().replace('"Freemium"', "[" * 5000 + "]" * 5000)),
    ("not JSON", "{name: 1"),
    ("empty file", ""),
    ("not UTF-8", b"\xff\xfe{}"),
]

# Arguments of a command, beside an existing account "acme" and a good plan file {plan}.
ARGUMENTS: list[tuple[str, list[str]]] = [
    ("invoice as of year 1", ["invoice", "--account", "acme", "--month", "2026-11", "--as-of", "0001-01-01T00:00:00+01:00"]),
    ("invoice as of year 9999", ["invoice", "--account", "acme", "--month", "2026-11", "--as-of", "9999-12-31T23:59:59-01:00"]),
    ("invoice as of 1969", ["invoice", "--account", "acme", "--month", "2026-11", "--as-of", "1969-12-31"]),
    ("invoice as of nonsense", ["invoice", "--account", "acme", "--month", "2026-11", "--as-of", "yesterday"]),
    ("invoice month 9999-12", ["invoice", "--account", "acme", "--month", "9999-12"]),
    ("invoice month 0001-01", ["invoice", "--account", "acme", "--month", "0001-01"]),
    ("invoice unknown account with NUL", ["invoice", "--account", "ac\x00me", "--month", "2026-11"]),
    ("quote outcomes 10^30", ["quote", "--plan", "{plan}", "--outcomes", str(10**30)]),
    ("quote outcomes of 5000 digits", ["quote", "--plan", "{plan}", "--outcomes", "9" * 5000]),
    ("quote seats 1e40", ["quote", "--plan", "{plan}", "--outcomes", "1", "--seats", "1e40"]),
    ("quote seats 10^40", ["quote", "--plan", "{plan}", "--outcomes", "1", "--seats", str(10**40)]),
    ("quote tasks 10^20", ["quote", "--plan", "{plan}", "--outcomes", "1", "--tasks", str(10**20)]),
    ("quote free remaining 10^20", ["quote", "--plan", "{plan}", "--outcomes", "1", "--free-remaining", str(10**20)]),
    ("quote active days 10^9", ["quote", "--plan", "{plan}", "--outcomes", "1", "--active-days", str(10**9)]),
    ("quote month 9999-12", ["quote", "--plan", "{plan}", "--outcomes", "1", "--month", "9999-12"]),
    ("quote outcomes superscript", ["quote", "--plan", "{plan}", "--outcomes", "²"]),
    ("quote plan is a folder", ["quote", "--plan", "{folder}", "--outcomes", "1"]),
    ("quote plan is /dev/null", ["quote", "--plan", "/dev/null", "--outcomes", "1"]),
    ("account add since year 1", ["account", "add", "new", "--name", "New", "--plan", "{plan}", "--since", "0001-01-01"]),
    ("account add since 9999", ["account", "add", "new", "--name", "New", "--plan", "{plan}", "--since", "9999-12-31"]),
    ("account add name with NUL", ["account", "add", "new", "--name", "N\x00ew", "--plan", "{plan}"]),
    ("account add name of 100,000 characters", ["account", "add", "new", "--name", "n" * 100_000, "--plan", "{plan}"]),
    ("account add name U+0085 only", ["account", "add", "new", "--name", "\u0085", "--plan", "{plan}"]),
    ("account add slug with newline", ["account", "add", "new\n", "--name", "New", "--plan", "{plan}"]),
    ("account add slug of 10,000 characters", ["account", "add", "n" * 10_000, "--name", "New", "--plan", "{plan}"]),
    ("ingest /dev/null", ["ingest", "/dev/null", "--account", "acme"]),
    ("ingest a folder", ["ingest", "{folder}", "--account", "acme"]),
    ("ingest a missing file", ["ingest", "{folder}/missing.csv", "--account", "acme"]),
    ("member set e-mail with NUL", ["member", "set", "a\x00b@example.com", "--account", "acme", "--role", "admin"]),
    ("member set e-mail of 100,000 characters", ["member", "set", "a" * 100_000 + "@example.com", "--account", "acme", "--role", "admin"]),
    ("staff add e-mail with U+0085", ["staff", "add", "a\u0085b@example.com"]),
    ("rollups of an unknown account", ["rollups", "rebuild", "--account", "nope\x00"]),
    ("start on port 10^9", ["start", "--port", str(10**9), "--no-demo"]),
]

# OVERSEER_NOW values every command refuses at start.
NOWS: list[str] = [
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z", "2101-01-01T00:00:00Z",
    "yesterday", "2026-13-01", "2026-11-24T25:00:00", "9" * 5000, "2026-11-24\u0085x",
]


def _loopback(url: str) -> bool:
    try:
        host = make_url(url).host
    except Exception:  # noqa: BLE001 - not a URL: it reaches nothing
        return True
    return host in (None, "", "127.0.0.1", "localhost", "::1")


# DATABASE_URL values (besides those made in a test's own folder): each is one line saying what to do.
# None reaches an address that is not this machine's.
DATABASE_URLS: list[str] = [
    "not a url",
    "://",
    "postgres://user:secret@127.0.0.1:notaport/x",
    "mysql://user@127.0.0.1/overseer",
    "oracle://user@127.0.0.1/overseer",
    "nosuchdriver://user@127.0.0.1/x",
    "postgresql://postgres:p%40ss%25word@127.0.0.1:1/overseer",
    "postgresql://postgres@127.0.0.1:1/overseer",
    "postgresql+nosuchdbapi://postgres@127.0.0.1/overseer",
    "sqlite:///file:missing-folder/x.db?mode=ro&uri=true",
    "sqlite:///file:nothing-here.db?mode=ro&uri=true",
]
assert all(_loopback(u) for u in DATABASE_URLS)

# Arguments whose value a refusal quotes: the line quotes a short part of it, not 100,000 characters.
LONG = "x" * 100_000
ARGUMENTS += [
    ("account add template of 100,000 characters", ["account", "add", "new", "--name", "New", "--plan", "{plan}", "--template", LONG]),
    ("invoice account of 100,000 characters", ["invoice", "--account", LONG, "--month", "2026-11"]),
    ("ingest account of 100,000 characters", ["ingest", "{plan}", "--account", LONG]),
    ("member role of 100,000 characters", ["member", "set", "a@example.com", "--account", "acme", "--role", LONG]),
    ("member remove e-mail of 100,000 characters", ["member", "remove", LONG, "--account", "acme"]),
]
