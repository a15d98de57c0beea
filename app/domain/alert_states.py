"""Alert states: each account's rules as ``OK``, ``WARNING``, ``ALERT`` or ``NO_DATA``, and what a change means.

The states are read off :func:`app.domain.alerts.evaluate_alerts`, the very
rules the pages show, so a state and the Overview's alert list never disagree:

==============  =========================  =====================================  ===========================
rule            ``NO_DATA``                ``WARNING``                            ``ALERT``
==============  =========================  =====================================  ===========================
``allowance``   the plan has no free        the ``allowance-80`` alert: 80% or     the ``allowance-100`` alert:
                outcomes                    more of them used, some left           all used, in the month they
                                                                                   ran out
``accuracy``    no target, or no outcome    —                                      the ``accuracy`` alert
                reviewed in the window
``completion``  no target, or no outcome    the ``completion`` alert               —
                closed in the window
``budget``      no monthly budget           —                                      the ``budget`` alert
==============  =========================  =====================================  ===========================

Otherwise a rule is ``OK``. ``value`` and ``threshold`` are what the rule
compares: the share of free outcomes used against 0.8 or 1 (allowance), the
rate against its target (accuracy, completion), the projected bill against the
budget (budget).

A change into ``WARNING`` or ``ALERT`` is an ``alert.triggered`` event; a change
from one of them to ``OK`` or ``NO_DATA`` is ``alert.resolved``; the allowance
entering ``ALERT`` is also ``allowance.exhausted``. ``NO_DATA`` ↔ ``OK`` is
kept in the history but sent nowhere: nothing needs anyone's attention.

Nothing here touches the database (see :mod:`app.store.alert_states`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.alerts import Alert, AlertTargets, AllowanceState, evaluate_alerts
from app.domain.invoice import Projection
from app.domain.summary import Summary

__all__ = [
    "ACTIVE", "NO_DATA", "OK", "RULES", "STATES", "WARNING", "ALERT", "RuleState", "Transition", "rule_states",
    "transitions",
]

OK, WARNING, ALERT, NO_DATA = "OK", "WARNING", "ALERT", "NO_DATA"
STATES = (OK, WARNING, ALERT, NO_DATA)
ACTIVE = frozenset({WARNING, ALERT})
RULES = ("allowance", "accuracy", "completion", "budget")
ALLOWANCE_WARNING_SHARE = Decimal("0.8")


@dataclass(frozen=True)
class RuleState:
    """One rule's state at a moment, with the figure it compared and the threshold it compared it with."""

    rule: str
    state: str
    value: Decimal | None
    threshold: Decimal | None
    message: str


@dataclass(frozen=True)
class Transition:
    """A change of one rule's state, and the webhook event types it raises (none for ``NO_DATA`` ↔ ``OK``)."""

    rule: str
    before: str
    after: RuleState

    @property
    def event_types(self) -> tuple[str, ...]:
        """``alert.triggered``, ``alert.resolved`` and/or ``allowance.exhausted``, in that order."""
        types: list[str] = []
        if self.after.state in ACTIVE:
            types.append("alert.triggered")
        elif self.before in ACTIVE:
            types.append("alert.resolved")
        if self.rule == "allowance" and self.after.state == ALERT:
            types.append("allowance.exhausted")
        return tuple(types)


def _share(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


def _rate(figure) -> Decimal:
    return _share(figure.numerator, figure.denominator)


def rule_states(
    account: AlertTargets, *, state: AllowanceState, projection: Projection, recent: Summary, as_of: datetime
) -> list[RuleState]:
    """Every rule's state for the figures the pages show, in :data:`RULES` order.

    Parameters
    ----------
    account, state, projection, recent, as_of
        As :func:`app.domain.alerts.evaluate_alerts` takes them.

    Returns
    -------
    list of RuleState
        One per rule of :data:`RULES`.
    """
    alerts: dict[str, Alert] = {
        a.code: a for a in evaluate_alerts(account, state=state, projection=projection, recent=recent, as_of=as_of)
    }
    out: list[RuleState] = []

    if state.free_total <= 0:
        out.append(RuleState("allowance", NO_DATA, None, None, "The plan has no free outcomes."))
    else:
        used = _share(state.free_used, state.free_total)
        if "allowance-100" in alerts:
            out.append(RuleState("allowance", ALERT, used, Decimal(1), alerts["allowance-100"].message))
        elif "allowance-80" in alerts:
            out.append(RuleState("allowance", WARNING, used, ALLOWANCE_WARNING_SHARE, alerts["allowance-80"].message))
        else:
            out.append(
                RuleState(
                    "allowance", OK, used, ALLOWANCE_WARNING_SHARE,
                    f"{state.free_used} of {state.free_total} free outcomes used.",
                )
            )

    for rule, figure, target, severity_state in (
        ("accuracy", recent.accuracy, account.target_accuracy, ALERT),
        ("completion", recent.completion_rate, account.target_completion_rate, WARNING),
    ):
        if target is None:
            out.append(RuleState(rule, NO_DATA, None, None, f"No {rule} target is set."))
        elif figure.value is None:
            out.append(RuleState(rule, NO_DATA, None, Decimal(target), f"No outcome to judge {rule} by in the window."))
        elif rule in alerts:
            out.append(RuleState(rule, severity_state, _rate(figure), Decimal(target), alerts[rule].message))
        else:
            out.append(
                RuleState(rule, OK, _rate(figure), Decimal(target), f"{rule.capitalize()} is {figure.format()}, on target.")
            )

    if account.monthly_budget is None:
        out.append(RuleState("budget", NO_DATA, None, None, "No monthly budget is set."))
    elif "budget" in alerts:
        out.append(RuleState("budget", ALERT, projection.total, account.monthly_budget, alerts["budget"].message))
    else:
        out.append(
            RuleState("budget", OK, projection.total, account.monthly_budget, "The projected bill is within the budget.")
        )
    return out


def transitions(stored: dict[str, str], current: list[RuleState]) -> list[Transition]:
    """The rules whose state differs from the stored one; a rule never evaluated before counts as ``NO_DATA``.

    Parameters
    ----------
    stored : dict
        Rule → its stored state.
    current : list of RuleState
        What :func:`rule_states` found now.
    """
    return [Transition(s.rule, stored.get(s.rule, NO_DATA), s) for s in current if stored.get(s.rule, NO_DATA) != s.state]
