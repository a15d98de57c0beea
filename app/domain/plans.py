"""Plans: the price list, parsed from and written to JSON, validated by rule.

Every bound a plan must keep lives here, so that a plan is refused before the
database sees it, with the same message on SQLite and PostgreSQL (README,
Rules, "Plans"):

- amounts (``base_fee``, ``outcome_price``, ``seat_price``, ``task_price``, a
  tier's ``unit_price`` and ``flat_fee``) are decimal strings or whole numbers
  from 0 to :data:`MAX_AMOUNT` with at most 6 decimals (the columns are
  ``NUMERIC(18, 6)``; a bill of a billion outcomes at the highest price still
  fits Python's 28-digit decimals);
- counts (``free_outcomes``, ``included_outcomes``, a tier's ``up_to``) are whole
  numbers from 0 to :data:`MAX_COUNT` (PostgreSQL's ``integer`` stops at 2^31 - 1);
- the name has 1 to :data:`MAX_NAME` characters, none of them a control
  character or an unpaired surrogate (PostgreSQL stores neither);
- at most :data:`MAX_TIERS` tiers, and plan JSON of at most
  :data:`MAX_PLAN_CHARS` characters nested at most
  :data:`app.domain.bounded_json.MAX_DEPTH` levels.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from app.domain import bounded_json
from app.domain.charges import tiered_names
from app.domain.errors import OverseerError
from app.domain.money import CURRENCIES, parse_amount

# The tiered charge models of the registry (app/domain/charges): a new one is accepted here unchanged.
TIERS_MODES = tiered_names()
_PLAN_KEYS = {
    "name",
    "currency",
    "free_outcomes",
    "base_fee",
    "included_outcomes",
    "outcome_price",
    "tiers",
    "tiers_mode",
    "seat_price",
    "task_price",
}

# The most seats an account's subscription may have (the Billing page's plan change and the store).
MAX_SEATS = 1_000_000
#: The largest amount a plan may hold, in its currency.
MAX_AMOUNT = Decimal(1_000_000_000)
#: The largest count a plan may hold (also the largest count the command line takes).
MAX_COUNT = 10**9
MAX_NAME = 200
MAX_TIERS = 100
MAX_PLAN_CHARS = 65_536
# An amount written with more characters than this is no amount within the bounds (12 digits, a point, 6 decimals).
_MAX_AMOUNT_CHARS = 40
_ASCII_WHITESPACE = " \t\n\r\f\v"
_WHOLE = re.compile(r"[0-9]{1,10}")


class PlanError(OverseerError):
    """A plan breaks one of SPEC's rules; the message says which."""


class StoredPlanError(PlanError):
    """The plan an account is on breaks a rule of this module (it was stored before the rule existed)."""


@dataclass(frozen=True)
class Tier:
    up_to: int | None
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)


@dataclass(frozen=True)
class PlanSpec:
    """A validated plan. ``tiers``, when given, replaces ``outcome_price``."""

    name: str
    currency: str = "USD"
    free_outcomes: int = 0
    base_fee: Decimal = Decimal(0)
    included_outcomes: int = 0
    outcome_price: Decimal = Decimal(0)
    tiers: tuple[Tier, ...] | None = None
    tiers_mode: str = "graduated"
    seat_price: Decimal = Decimal(0)
    task_price: Decimal = Decimal(0)
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict:
        """The plan as SPEC's JSON shape (amounts as strings)."""
        return {
            "name": self.name,
            "currency": self.currency,
            "free_outcomes": self.free_outcomes,
            "base_fee": str(self.base_fee),
            "included_outcomes": self.included_outcomes,
            "outcome_price": str(self.outcome_price),
            "tiers": None
            if self.tiers is None
            else [
                {"up_to": t.up_to, "unit_price": str(t.unit_price), "flat_fee": str(t.flat_fee)}
                for t in self.tiers
            ],
            "tiers_mode": self.tiers_mode,
            "seat_price": str(self.seat_price),
            "task_price": str(self.task_price),
        }


def shown(value) -> str:
    """``value`` as a refusal quotes it: short, whatever it is (a million-character name, a list nested deep).

    Examples
    --------
    >>> shown("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'… (100 characters)"
    >>> shown([[1]])
    'a list'
    """
    if isinstance(value, str):
        return repr(value) if len(value) <= 30 else f"{value[:30]!r}… ({len(value):,} characters)"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        # repr of an int over 4,300 digits raises ValueError; bit_length is free.
        return repr(value) if value.bit_length() <= 128 else f"a number of about {int(value.bit_length() * 0.30103):,} digits"
    if isinstance(value, float):
        return repr(value)
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def check_count(value, what: str, *, low: int = 0, high: int = MAX_COUNT) -> int:
    """``value`` as a whole number from ``low`` to ``high``, else :class:`PlanError` naming ``what``.

    A JSON number (``30``, or ``30.0``) or a string of the digits 0-9 (``"30"``) is
    a whole number; booleans, fractions, ``"²"`` (which ``str.isdigit`` accepts)
    and numbers beyond the bound are not.
    """
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _WHOLE.fullmatch(value.strip(_ASCII_WHITESPACE)):
        number = int(value.strip(_ASCII_WHITESPACE))
    if number is None:
        raise PlanError(f"{what} must be a whole number, got {shown(value)}")
    if number < low:
        raise PlanError(f"{what} must not be {'negative' if low == 0 else f'below {low}'}, got {shown(number)}")
    if number > high:
        raise PlanError(f"{what} must be at most {high:,}, got {shown(number)}")
    return number


def check_amount(value, what: str) -> Decimal:
    """``value`` as an amount from 0 to :data:`MAX_AMOUNT` with at most 6 decimals, else :class:`PlanError`.

    A string of ASCII digits (``"1.00"``, ``"1e3"``) or a whole JSON number;
    floats are refused (``0.1`` as a float is not one tenth).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        rule = "must not be negative" if value < 0 else f"must be at most {MAX_AMOUNT:,}"
        raise PlanError(f"{what} {rule}, got {shown(value)}")
    if isinstance(value, str) and (len(value) > _MAX_AMOUNT_CHARS or not value.isascii()):
        raise PlanError(f"{what} must be a number written with the digits 0-9, such as \"1.00\", got {shown(value)}")
    if not isinstance(value, (str, int, float)):
        raise PlanError(f"{what} must be a string such as \"1.00\", got {shown(value)}")
    try:
        amount = parse_amount(value, what)
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    if amount > MAX_AMOUNT:
        raise PlanError(f"{what} must be at most {MAX_AMOUNT:,}, got {shown(value)}")
    return amount


def check_name(value, what: str = "the plan's name", *, max_length: int = MAX_NAME) -> str:
    """``value`` trimmed of ASCII white space: 1 to ``max_length`` characters, no control character or surrogate.

    Only ASCII white space is trimmed: ``str.strip`` would also take U+0085 and
    other Unicode spaces, which are then refused as they are.
    """
    if not isinstance(value, str) or not value.strip(_ASCII_WHITESPACE):
        raise PlanError(f"{what} must not be empty" if isinstance(value, str) else f"{what} must be text, got {shown(value)}")
    text = value.strip(_ASCII_WHITESPACE)
    if len(text) > max_length:
        raise PlanError(f"{what} has {len(text):,} characters; at most {max_length} are allowed")
    bad = next((ch for ch in text if unicodedata.category(ch) in ("Cc", "Cs")), None)
    if bad is not None:
        kind = "a control character" if unicodedata.category(bad) == "Cc" else "an unpaired surrogate"
        raise PlanError(f"{what} contains {kind} (U+{ord(bad):04X}); remove it")
    return text


def _count(data: dict, key: str) -> int:
    value = data.get(key, 0)
    return check_count(0 if value is None else value, key)


def _amount(data: dict, key: str) -> Decimal:
    value = data.get(key, "0")
    return check_amount("0" if value is None else value, key)


def _tiers(raw) -> tuple[Tier, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise PlanError("tiers must be a non-empty list, or null")
    if len(raw) > MAX_TIERS:
        raise PlanError(f"a plan has at most {MAX_TIERS} tiers, got {len(raw):,}")
    tiers: list[Tier] = []
    previous = 0
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise PlanError(f"tier {index} must be an object with up_to, unit_price and flat_fee")
        unknown = set(item) - {"up_to", "unit_price", "flat_fee"}
        if unknown:
            raise PlanError(f"tier {index} has unknown field {shown(sorted(unknown)[0])}")
        up_to = item.get("up_to")
        if up_to is not None:
            if isinstance(up_to, bool) or not isinstance(up_to, int):
                raise PlanError(f"tier {index}: up_to must be a whole number or null, got {shown(up_to)}")
            check_count(up_to, f"tier {index} up_to")
            if up_to <= previous:
                raise PlanError(
                    f"tiers out of order: tier {index} ends at {up_to}, "
                    f"which is not above the previous tier's {previous}"
                )
            previous = up_to
        elif index != len(raw):
            raise PlanError(f"tier {index} is unbounded (up_to null) but is not the last tier")
        unit_price = check_amount(item.get("unit_price", "0"), f"tier {index} unit_price")
        flat_fee = check_amount(item.get("flat_fee", "0") or "0", f"tier {index} flat_fee")
        tiers.append(Tier(up_to, unit_price, flat_fee))
    if tiers[-1].up_to is not None:
        raise PlanError("the last tier must be unbounded (up_to null)")
    return tuple(tiers)


def parse_plan(data) -> PlanSpec:
    """Validate a plan given as a JSON object (a ``dict``).

    Raises
    ------
    PlanError
        Naming the rule the plan breaks: negative amount, tiers out of order,
        no unbounded last tier, unknown currency code, unknown field, or any
        bound of this module (amounts, counts, name, tiers).
    """
    if not isinstance(data, dict):
        raise PlanError("a plan must be a JSON object")
    unknown = set(data) - _PLAN_KEYS
    if unknown:
        raise PlanError(f"unknown plan field {shown(sorted(map(str, unknown))[0])}")
    if data.get("name") is None or (isinstance(data["name"], str) and not data["name"].strip(_ASCII_WHITESPACE)):
        raise PlanError("a plan needs a name")
    name = check_name(data["name"])
    currency = data.get("currency", "USD")
    # ASCII first: "uſd".upper() is "USD".
    if not isinstance(currency, str) or not currency.isascii() or currency.upper() not in CURRENCIES:
        raise PlanError(f"unknown currency code {shown(currency)} (expected an ISO 4217 code such as USD)")
    tiers_mode = data.get("tiers_mode") or "graduated"
    if not isinstance(tiers_mode, str) or tiers_mode not in TIERS_MODES:
        raise PlanError(f"tiers_mode must be one of {', '.join(TIERS_MODES)}, got {shown(tiers_mode)}")
    return PlanSpec(
        name=name,
        currency=currency.upper(),
        free_outcomes=_count(data, "free_outcomes"),
        base_fee=_amount(data, "base_fee"),
        included_outcomes=_count(data, "included_outcomes"),
        outcome_price=_amount(data, "outcome_price"),
        tiers=_tiers(data.get("tiers")),
        tiers_mode=tiers_mode,
        seat_price=_amount(data, "seat_price"),
        task_price=_amount(data, "task_price"),
    )


def parse_plan_json(text: str, what: str = "the plan") -> PlanSpec:
    """Validate a plan given as JSON text; every failure is a :class:`PlanError`.

    ``what`` names the plan in the message when the text is not JSON
    ("the plan is not valid JSON: ... at line 1, column 9").
    """
    try:
        data = bounded_json.loads(text, max_chars=MAX_PLAN_CHARS)
    except bounded_json.JSONLimitError as exc:
        raise PlanError(f"{what} {exc}") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    return parse_plan(data)


def load_plan_file(path: str | Path) -> PlanSpec:
    """Read and validate a plan JSON file; every failure is a :class:`PlanError`.

    At most :data:`MAX_PLAN_CHARS` characters are read (a plan named ``/dev/zero``
    would never end); only a regular file is read.
    """
    path = Path(path)
    shown_path = shown(str(path))
    try:
        if not path.is_file():
            what = "a folder" if path.is_dir() else "not a regular file" if path.exists() else "no such file"
            raise PlanError(f"cannot read plan file {shown_path}: {what}")
        with path.open("rb") as stream:
            raw = stream.read(4 * MAX_PLAN_CHARS + 1)  # UTF-8 takes at most 4 bytes a character
    except OSError as exc:
        raise PlanError(f"cannot read plan file {shown_path}: {exc.strerror or exc}") from None
    if len(raw) > 4 * MAX_PLAN_CHARS:
        raise PlanError(f"plan file {shown_path} is too large: a plan has at most {MAX_PLAN_CHARS:,} characters")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(f"cannot read plan file {shown_path}: not UTF-8 (byte {exc.start + 1}); save it as UTF-8") from None
    return parse_plan_json(text, f"plan file {shown_path}")


SEED_PLANS: dict[str, PlanSpec] = {
    "freemium": parse_plan(
        {"name": "Outcome-based freemium", "currency": "USD", "free_outcomes": 30, "base_fee": "100.00",
         "included_outcomes": 0, "outcome_price": "1.00"}
    ),
    "hybrid": parse_plan(
        {"name": "Hybrid", "currency": "USD", "free_outcomes": 0, "base_fee": "200.00",
         "included_outcomes": 200, "outcome_price": "2.00"}
    ),
    "seat": parse_plan({"name": "Seat-based", "currency": "USD", "seat_price": "50.00"}),
    "usage": parse_plan({"name": "Usage-based", "currency": "USD", "task_price": "0.80"}),
}
