"""Value delivered (SPEC "Metrics"): the people-time the AI's work saved, in hours and money, against the bill.

value delivered = Σ over billable outcomes of the manual minutes of each step
the AI performed (minutes per step are set per job) × the account's hourly cost.

Rules chosen where SPEC is silent:

- A billable outcome is one with status ``completed`` and a verdict other than
  ``incorrect`` (:func:`app.domain.outcome_rules.billable_now`), dated by its
  ``completed_at`` in UTC — the same outcomes as ``Summary.billable``. A step counts when its column says
  ``ai``; assisted steps the AI performed count in full (a person only approved them).
- Nothing after ``as_of`` counts (SPEC "Billing over time"), as in
  :mod:`app.store.metrics`: outcomes completed after it are left out, and one
  whose latest review came after it counts with the verdict in force at
  ``as_of`` (its latest review made at or before it, else unreviewed). Without
  ``as_of`` (:func:`value_delivered` only) every stored row and current verdict counts.
- The database counts, per job and step, the billable outcomes whose step the
  AI performed, from the daily rollups of :mod:`app.store.rollups` up to
  ``as_of``'s day, corrected by :func:`app.store.metrics.as_of_correction`
  (the raw rows of the outcomes completed later on ``as_of``'s day and of those
  reviewed after ``as_of``: usually none); minutes × counts are summed exactly in
  Python (Decimal) over those few rows, never over outcomes.
- Money saved is rounded to cents half-up once, at the end; hours are exact
  (minutes / 60) and shown rounded.
- Per month: value of the outcomes completed in the month, against that month's
  invoice total from :func:`app.store.billing.invoice_history` (credits
  included). The return multiple is value / bill, undefined ("—") when the bill is zero.
- Manual minutes per step are 0 to 10,080 (a week) with at most two decimals;
  the hourly cost is 0 to 100,000.00 in the account's currency, rounded to cents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import extract, func, select
from sqlmodel import Session

from app.domain.access import Principal
from app.domain.errors import OverseerError
from app.domain.money import round_cents
from app.domain.steps import STEPS
from app.models import Account, Job, JobStep, RollupOutcomeDay, RollupStepDay
from app.store.outcome_sql import billable_now
from app.store import audit
from app.store.accounts import get_job, get_subscription, job_steps
from app.store.billing import invoice_history
from app.store.metrics import as_of_correction, last_day_counted, rollup_days

MAX_MINUTES = Decimal(10_080)
MAX_HOURLY_COST = Decimal(100_000)
_SIXTY = Decimal(60)


@dataclass(frozen=True)
class StepValue:
    """What one step of one job saved.

    Attributes
    ----------
    job_slug, job_name, step, coverage : str
    manual_minutes : Decimal
        Minutes a person spends on the step for one outcome.
    ai_runs : int
        Billable outcomes in which the AI performed the step.
    minutes : Decimal
        ``ai_runs × manual_minutes``.
    """

    job_slug: str
    job_name: str
    step: str
    coverage: str
    manual_minutes: Decimal
    ai_runs: int
    minutes: Decimal

    @property
    def hours(self) -> Decimal:
        return self.minutes / _SIXTY


@dataclass(frozen=True)
class ValueReport:
    """Value delivered over a date range.

    Attributes
    ----------
    currency : str
    hourly_cost : Decimal
    billable : int
        Billable outcomes in the range.
    steps : tuple of StepValue
        Per job (by name) and step (job-map order).
    billable_by_job : tuple of (str, int)
        ``(job_slug, billable outcomes)`` per job.
    """

    currency: str
    hourly_cost: Decimal
    billable: int
    steps: tuple[StepValue, ...]
    billable_by_job: tuple[tuple[str, int], ...] = ()

    @property
    def minutes(self) -> Decimal:
        return sum((s.minutes for s in self.steps), Decimal(0))

    @property
    def hours(self) -> Decimal:
        return self.minutes / _SIXTY

    @property
    def money(self) -> Decimal:
        """Hours saved × hourly cost, rounded to cents."""
        return round_cents(self.minutes * self.hourly_cost / _SIXTY)

    def by_step(self) -> list[tuple[str, Decimal, int]]:
        """``(step, hours, ai_runs)`` summed over jobs, in job-map order."""
        out = []
        for step in STEPS:
            rows = [s for s in self.steps if s.step == step]
            out.append((step, sum((s.minutes for s in rows), Decimal(0)) / _SIXTY, sum(s.ai_runs for s in rows)))
        return out

    def for_job(self, job_slug: str) -> ValueReport:
        """The same report restricted to one job."""
        billable = dict(self.billable_by_job).get(job_slug, 0)
        steps = tuple(s for s in self.steps if s.job_slug == job_slug)
        return ValueReport(self.currency, self.hourly_cost, billable, steps, ((job_slug, billable),))

    def money_by_step(self) -> list[tuple[str, Decimal]]:
        """``(step, money saved)`` summed over jobs, in job-map order, each rounded to cents."""
        return [(step, round_cents(hours * self.hourly_cost)) for step, hours, _runs in self.by_step()]

    def steps_paying(self, bill: Decimal) -> list[str] | None:
        """The fewest steps whose value, largest first, covers ``bill``; None when all of them do not.

        An empty list means there is nothing to pay for (``bill`` is zero or less).
        """
        if bill <= 0:
            return []
        ranked = sorted(self.money_by_step(), key=lambda item: item[1], reverse=True)
        total, chosen = Decimal(0), []
        for step, money in ranked:
            if money <= 0:
                break
            total += money
            chosen.append(step)
            if total >= bill:
                return chosen
        return None

    def by_job(self) -> list[tuple[str, str, Decimal]]:
        """``(job_slug, job_name, hours)`` in job order."""
        seen: dict[str, tuple[str, Decimal]] = {}
        for s in self.steps:
            name, minutes = seen.get(s.job_slug, (s.job_name, Decimal(0)))
            seen[s.job_slug] = (name, minutes + s.minutes)
        return [(slug, name, minutes / _SIXTY) for slug, (name, minutes) in seen.items()]


@dataclass(frozen=True)
class MonthValue:
    """One calendar month: value delivered against the bill."""

    year: int
    month: int
    billable: int
    hours: Decimal
    value: Decimal
    bill: Decimal

    @property
    def net(self) -> Decimal:
        return self.value - self.bill

    @property
    def multiple(self) -> Decimal | None:
        """Value / bill; None when nothing was billed."""
        return None if self.bill <= 0 else self.value / self.bill


def _minutes_by_job(session: Session, account: Account) -> dict[int, tuple[Job, list[JobStep]]]:
    jobs = list(session.execute(select(Job).where(Job.account_id == account.id).order_by(Job.name, Job.id)).scalars())
    return {job.id: (job, job_steps(session, job)) for job in jobs}


def _int(value) -> int:
    return 0 if value is None else int(value)


def _rollup_counts(session: Session, account: Account, outcome_days: list, step_days: list, by: tuple = ()) -> dict:
    """Billable outcomes and their AI runs per step from the rollups, keyed by ``(*by, job_id)``.

    ``by`` are expressions over the rollup ``day`` column (one of each table, as a pair).
    Each value is ``{"billable": n, <step>: runs, ...}`` like a row of the raw query.
    """
    r, st_ = RollupOutcomeDay, RollupStepDay
    out: dict = {}

    def entry(key):
        return out.setdefault(key, {"billable": 0, **dict.fromkeys(STEPS, 0)})

    outcome_by = [pair[0] for pair in by]
    for row in session.execute(
        select(*outcome_by, r.job_id, func.sum(r.outcomes))
        .where(r.account_id == account.id, billable_now(r.status, r.verdict), *outcome_days)
        .group_by(*outcome_by, r.job_id)
    ):
        key = tuple(_int(v) for v in row[: len(by)]) + (row[len(by)],)
        entry(key)["billable"] += _int(row[-1])
    step_by = [pair[1] for pair in by]
    for row in session.execute(
        select(*step_by, st_.job_id, st_.step, func.sum(st_.billable_ai_runs))
        .where(st_.account_id == account.id, *step_days)
        .group_by(*step_by, st_.job_id, st_.step)
    ):
        key = tuple(_int(v) for v in row[: len(by)]) + (row[len(by)],)
        if row[len(by) + 1] in STEPS and row[-1]:
            entry(key)[row[len(by) + 1]] += _int(row[-1])
    return out


def _apply_as_of(counted: dict, fix, prefix) -> None:
    """Add the as_of deltas of ``fix`` (billable outcomes and their AI runs) to ``counted`` in place.

    Parameters
    ----------
    counted : dict
        As :func:`_rollup_counts` returns it, keyed by ``(*prefix(day), job_id)``.
    fix : app.store.metrics._AsOfCorrection
    prefix : callable
        ``day -> tuple``: the key's leading part for a day (``()`` when not grouped).
    """

    def entry(key):
        return counted.setdefault(key, {"billable": 0, **dict.fromkeys(STEPS, 0)})

    for (day, job_id), delta in fix.counts.items():
        if delta.get("billable"):
            entry((*prefix(day), job_id))["billable"] += delta["billable"]
    for (day, job_id), delta in fix.billable_ai.items():
        row = entry((*prefix(day), job_id))
        for step, n in delta.items():
            row[step] += n


def value_delivered(
    session: Session, account: Account, start: date, end: date, *, as_of: datetime | None = None
) -> ValueReport:
    """Value delivered by the account's billable outcomes completed in ``[start, end]`` (UTC days).

    Parameters
    ----------
    session : Session
    account : Account
    start, end : date
        Inclusive.
    as_of : datetime, optional
        Timezone-aware; outcomes completed after it are left out and reviews made
        after it give way to the verdict in force then. None: every stored row.

    Returns
    -------
    ValueReport
        Every job and step, zeros included.

    Raises
    ------
    OverseerError
        When ``end`` is before ``start``.
    """
    # A billable outcome is completed, so its rollup day is the day of its completed_at.
    last = last_day_counted(start, end, as_of)
    counted = {}
    if last >= start:
        counted = _rollup_counts(
            session,
            account,
            [rollup_days(RollupOutcomeDay.day, start, last)],
            [rollup_days(RollupStepDay.day, start, last)],
        )
    if as_of is not None:
        _apply_as_of(counted, as_of_correction(session, account.id, start, end, as_of), lambda day: ())
    rows = {key[-1]: row for key, row in counted.items()}
    steps: list[StepValue] = []
    per_job: list[tuple[str, int]] = []
    for job_id, (job, rows_of_job) in _minutes_by_job(session, account).items():
        row = rows.get(job_id)
        per_job.append((job.slug, 0 if row is None else _int(row["billable"])))
        for js in rows_of_job:
            runs = 0 if row is None else _int(row[js.step])
            minutes = Decimal(js.manual_minutes)
            steps.append(StepValue(job.slug, job.name, js.step, js.coverage, minutes, runs, minutes * runs))
    billable = sum(n for _slug, n in per_job)
    return ValueReport(account.currency, Decimal(account.hourly_cost), billable, tuple(steps), tuple(per_job))


def monthly_value(session: Session, account: Account, *, as_of: datetime) -> list[MonthValue]:
    """Value delivered and the bill of every month from the subscription's first to ``as_of``'s.

    Grouped queries over the rollups count, per month and job, the billable
    outcomes whose step the AI performed, as they stood at ``as_of``; the bills
    are :func:`app.store.billing.invoice_history`.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Timezone-aware; outcomes completed later are not counted, and reviews made
        later give way to the verdict in force at ``as_of``.

    Returns
    -------
    list of MonthValue
        Oldest first; the current month is the month to date.
    """
    invoices = invoice_history(session, account, as_of=as_of)
    sub, _plan = get_subscription(session, account)
    today = as_of.date()
    first = sub.started_on
    r_ym = extract("year", RollupOutcomeDay.day) * 12 + extract("month", RollupOutcomeDay.day)
    s_ym = extract("year", RollupStepDay.day) * 12 + extract("month", RollupStepDay.day)
    counted: dict = {}
    if first <= today:
        # Every day up to as_of's from the rollups, then as the metrics do: the outcomes completed
        # later that day taken out, and the verdicts reviewed after as_of set back (usually none).
        counted = _rollup_counts(
            session,
            account,
            [RollupOutcomeDay.day >= first, RollupOutcomeDay.day <= today],
            [RollupStepDay.day >= first, RollupStepDay.day <= today],
            by=((r_ym, s_ym),),
        )
        fix = as_of_correction(session, account.id, first, today, as_of)
        _apply_as_of(counted, fix, lambda day: (day.year * 12 + day.month,))
    minutes_of = {
        job_id: {js.step: Decimal(js.manual_minutes) for js in rows_of_job}
        for job_id, (_job, rows_of_job) in _minutes_by_job(session, account).items()
    }
    per_month: dict[int, tuple[int, Decimal]] = {}
    for (key, job_id), row in counted.items():
        count, minutes = per_month.get(key, (0, Decimal(0)))
        table = minutes_of.get(job_id, {})
        minutes += sum((table.get(s, Decimal(0)) * _int(row[s]) for s in STEPS), Decimal(0))
        per_month[key] = (count + _int(row["billable"]), minutes)
    hourly = Decimal(account.hourly_cost)
    out = []
    for inv in invoices:
        count, minutes = per_month.get(inv.year * 12 + inv.month, (0, Decimal(0)))
        out.append(
            MonthValue(inv.year, inv.month, count, minutes / _SIXTY, round_cents(minutes * hourly / _SIXTY), inv.total)
        )
    return out


def return_multiple(months: list[MonthValue]) -> Decimal | None:
    """Total value / total bill over ``months``; None when nothing was billed."""
    bill = sum((m.bill for m in months), Decimal(0))
    value = sum((m.value for m in months), Decimal(0))
    return None if bill <= 0 else value / bill


def _decimal(value, what: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise OverseerError(f"{what} must be a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise OverseerError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise OverseerError(f"{what} is not a finite number: {value!r}")
    return number


def set_manual_minutes(
    session: Session, account: Account, job_slug: str, minutes: Mapping[str, object], *, actor: Principal
) -> dict[str, Decimal]:
    """Set the manual minutes of some steps of one job, as ``actor`` (an admin); nothing is committed.

    Parameters
    ----------
    session : Session
    account : Account
    job_slug : str
    minutes : mapping
        ``{step: minutes}``; minutes as a number or a string, 0 to 10,080, at most two decimals.

    Returns
    -------
    dict
        ``{step: Decimal}`` as stored.

    Raises
    ------
    OverseerError
        An unknown job or step, or minutes out of range; nothing is changed then.
    """
    actor.require_admin(account.id, "change the value inputs")
    job = get_job(session, account, job_slug)
    clean: dict[str, Decimal] = {}
    for step, raw in minutes.items():
        if step not in STEPS:
            raise OverseerError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
        what = f"manual minutes of {step}"
        value = _decimal(raw, what)
        if value < 0 or value > MAX_MINUTES:
            raise OverseerError(f"{what} must be between 0 and {MAX_MINUTES:,} (a week), got {raw}")
        if -value.normalize().as_tuple().exponent > 2:
            raise OverseerError(f"{what} has more than two decimals: {raw}")
        clean[step] = value
    before: dict = {}
    after: dict = {}
    for row in job_steps(session, job):
        if row.step in clean:
            if Decimal(row.manual_minutes) != clean[row.step]:
                before[f"{row.step}.manual_minutes"] = Decimal(row.manual_minutes)
                after[f"{row.step}.manual_minutes"] = clean[row.step]
            row.manual_minutes = clean[row.step]
            session.add(row)
    if after:
        audit.record(session, actor, "value_inputs", account=account, target=job.slug, before=before, after=after)
    session.flush()
    return clean


def set_hourly_cost(session: Session, account: Account, amount, *, actor: Principal) -> Decimal:
    """Set what an hour of a person's time costs the account (its currency), as ``actor`` (an admin); nothing is committed.

    Raises
    ------
    OverseerError
        Not a number, negative, or above 100,000.00.
    """
    actor.require_admin(account.id, "change the value inputs")
    value = _decimal(amount, "the hourly cost")
    if value < 0 or value > MAX_HOURLY_COST:
        raise OverseerError(f"the hourly cost must be between 0 and {MAX_HOURLY_COST:,}, got {amount}")
    old = account.hourly_cost
    account.hourly_cost = round_cents(value)
    if Decimal(old) != account.hourly_cost:
        audit.record(
            session, actor, "value_inputs", account=account, before={"hourly_cost": old}, after={"hourly_cost": account.hourly_cost}
        )
    session.add(account)
    session.flush()
    return account.hourly_cost


__all__ = [
    "MonthValue",
    "StepValue",
    "ValueReport",
    "monthly_value",
    "return_multiple",
    "set_hourly_cost",
    "set_manual_minutes",
    "value_delivered",
]
