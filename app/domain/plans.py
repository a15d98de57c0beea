"""Plans: the price list, parsed from and written to JSON, validated by rule."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from app.domain.errors import OverseerError
from app.domain.money import CURRENCIES, parse_amount

TIERS_MODES = ("graduated", "volume")
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


class PlanError(OverseerError):
    """A plan breaks one of SPEC's rules; the message says which."""


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


def _count(data: dict, key: str) -> int:
    value = data.get(key, 0)
    if value is None:
        value = 0
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise PlanError(f"{key} must be a whole number, got {value!r}")
    if value < 0:
        raise PlanError(f"{key} must not be negative, got {value}")
    return value


def _amount(data: dict, key: str) -> Decimal:
    value = data.get(key, "0")
    try:
        return parse_amount("0" if value is None else value, key)
    except ValueError as exc:
        raise PlanError(str(exc)) from None


def _tiers(raw) -> tuple[Tier, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise PlanError("tiers must be a non-empty list, or null")
    tiers: list[Tier] = []
    previous = 0
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise PlanError(f"tier {index} must be an object with up_to, unit_price and flat_fee")
        unknown = set(item) - {"up_to", "unit_price", "flat_fee"}
        if unknown:
            raise PlanError(f"tier {index} has unknown field {sorted(unknown)[0]!r}")
        up_to = item.get("up_to")
        if up_to is not None:
            if isinstance(up_to, bool) or not isinstance(up_to, int):
                raise PlanError(f"tier {index}: up_to must be a whole number or null, got {up_to!r}")
            if up_to <= previous:
                raise PlanError(
                    f"tiers out of order: tier {index} ends at {up_to}, "
                    f"which is not above the previous tier's {previous}"
                )
            previous = up_to
        elif index != len(raw):
            raise PlanError(f"tier {index} is unbounded (up_to null) but is not the last tier")
        try:
            unit_price = parse_amount(item.get("unit_price", "0"), f"tier {index} unit_price")
            flat_fee = parse_amount(item.get("flat_fee", "0") or "0", f"tier {index} flat_fee")
        except ValueError as exc:
            raise PlanError(str(exc)) from None
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
        no unbounded last tier, unknown currency code, unknown field.
    """
    if not isinstance(data, dict):
        raise PlanError("a plan must be a JSON object")
    unknown = set(data) - _PLAN_KEYS
    if unknown:
        raise PlanError(f"unknown plan field {sorted(unknown)[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PlanError("a plan needs a name")
    currency = data.get("currency", "USD")
    if not isinstance(currency, str) or currency.upper() not in CURRENCIES:
        raise PlanError(f"unknown currency code {currency!r} (expected an ISO 4217 code such as USD)")
    tiers_mode = data.get("tiers_mode") or "graduated"
    if tiers_mode not in TIERS_MODES:
        raise PlanError(f"tiers_mode must be one of {', '.join(TIERS_MODES)}, got {tiers_mode!r}")
    return PlanSpec(
        name=name.strip(),
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
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    return parse_plan(data)


def load_plan_file(path: str | Path) -> PlanSpec:
    """Read and validate a plan JSON file; every failure is a :class:`PlanError`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read plan file {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    return parse_plan_json(text, f"plan file {path}")


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
