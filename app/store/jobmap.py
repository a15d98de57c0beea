"""Edit a job map: step descriptions and coverage levels, the job's name and outcome unit.

Every function validates all of its input before changing anything, raises
:class:`OverseerError` with a message fit for the user, and does not commit:
the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, select

from app.domain.access import Principal
from app.domain.errors import NotFound, OverseerError
from app.domain.steps import COVERAGE_LEVELS, STEPS
from app.domain.storable import check_storable
from app.models import Account, Job, JobStep
from app.store import audit

MAX_DESCRIPTION = 2000
MAX_NAME = 200
MAX_UNIT = 100


@dataclass(frozen=True)
class StepChange:
    """New values for one step; ``None`` leaves a field as it is."""

    description: str | None = None
    coverage: str | None = None


def _job(session: Session, account: Account, job_slug: str) -> Job:
    job = session.exec(select(Job).where(Job.account_id == account.id, Job.slug == job_slug)).first()
    if job is None:
        raise NotFound(f"account {account.slug!r} has no job {job_slug!r}")
    return job


def _check_step(step: str) -> None:
    if step not in STEPS:
        raise OverseerError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")


def _check_coverage(step: str, coverage: str) -> None:
    if coverage not in COVERAGE_LEVELS:
        raise OverseerError(
            f"step {step}: unknown coverage level {coverage!r}; expected one of {', '.join(COVERAGE_LEVELS)}"
        )


def _clean_description(step: str, description: str) -> str:
    if not isinstance(description, str):
        raise OverseerError(f"step {step}: the description must be text")
    text = description.strip()
    if not text:
        raise OverseerError(f"step {step}: the description must not be empty")
    if len(text) > MAX_DESCRIPTION:
        raise OverseerError(f"step {step}: the description has at most {MAX_DESCRIPTION} characters, got {len(text)}")
    return check_storable(text, f"step {step}: the description", lines=True)


def _clean_label(value: str, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OverseerError(f"the job's {what} must not be empty")
    text = " ".join(value.split())
    if len(text) > limit:
        raise OverseerError(f"the job's {what} has at most {limit} characters, got {len(text)}")
    return check_storable(text, f"the job's {what}")


def update_step(
    session: Session,
    account: Account,
    job_slug: str,
    step: str,
    *,
    actor: Principal,
    description: str | None = None,
    coverage: str | None = None,
) -> JobStep:
    """Change one step's description and/or coverage level."""
    return update_job_map(session, account, job_slug, actor=actor, steps={step: StepChange(description, coverage)})[step]


def update_job(
    session: Session,
    account: Account,
    job_slug: str,
    *,
    actor: Principal,
    name: str | None = None,
    outcome_unit: str | None = None,
) -> Job:
    """Rename a job and/or change the unit its outcomes are counted in."""
    update_job_map(session, account, job_slug, actor=actor, name=name, outcome_unit=outcome_unit)
    return _job(session, account, job_slug)


def update_job_map(
    session: Session,
    account: Account,
    job_slug: str,
    *,
    actor: Principal,
    name: str | None = None,
    outcome_unit: str | None = None,
    steps: Mapping[str, StepChange | Mapping] | None = None,
) -> dict[str, JobStep]:
    """Apply every change to one job at once, or none of them, and record it in the audit trail.

    Parameters
    ----------
    actor : Principal
        Who changes it: an admin of the account.
    steps : mapping of step name to :class:`StepChange` (or a dict with
        ``description`` and/or ``coverage``)

    Returns
    -------
    dict
        The job's steps by name, after the change.

    Raises
    ------
    NotFound
        The account has no such job.
    Forbidden
        ``actor`` is not an admin of the account.
    OverseerError
        An unknown step or coverage level, an empty or too long description,
        name or unit. Nothing is changed.
    """
    actor.require_admin(account.id, "change the job map")
    job = _job(session, account, job_slug)
    changes: dict[str, StepChange] = {}
    for step, change in (steps or {}).items():
        _check_step(step)
        if isinstance(change, Mapping):
            unknown = set(change) - {"description", "coverage"}
            if unknown:
                raise OverseerError(f"step {step}: unknown field {sorted(unknown)[0]!r}")
            change = StepChange(change.get("description"), change.get("coverage"))
        description = None if change.description is None else _clean_description(step, change.description)
        if change.coverage is not None:
            _check_coverage(step, change.coverage)
        changes[step] = StepChange(description, change.coverage)
    new_name = None if name is None else _clean_label(name, "name", MAX_NAME)
    new_unit = None if outcome_unit is None else _clean_label(outcome_unit, "outcome unit", MAX_UNIT)

    rows = {row.step: row for row in session.exec(select(JobStep).where(JobStep.job_id == job.id))}
    missing = [s for s in changes if s not in rows]
    if missing:
        raise OverseerError(f"job {job_slug!r} has no step {missing[0]!r}")
    before: dict = {}
    after: dict = {}
    for step, change in changes.items():
        row = rows[step]
        for field in ("description", "coverage"):
            new = getattr(change, field)
            if new is not None and new != getattr(row, field):
                before[f"{step}.{field}"] = getattr(row, field)
                after[f"{step}.{field}"] = new
                setattr(row, field, new)
        session.add(row)
    for field, new in (("name", new_name), ("outcome_unit", new_unit)):
        if new is not None and new != getattr(job, field):
            before[field] = getattr(job, field)
            after[field] = new
            setattr(job, field, new)
    session.add(job)
    if after:
        audit.record(session, actor, "job_map", account=account, target=job.slug, before=before, after=after)
    session.flush()
    return rows


def add_job(session: Session, actor: Principal, account: Account, template: str) -> Job:
    """Add a job to the account from a template (an admin's change, recorded in the audit trail).

    Raises
    ------
    Forbidden
        ``actor`` is not an admin of the account.
    OverseerError
        An unknown template, or the account already has that job.
    """
    from app.store.accounts import create_job

    actor.require_admin(account.id, "add a job")
    try:
        job = create_job(session, account, template)
    except ValueError as exc:  # an unknown template is a ValueError from the domain
        raise OverseerError(str(exc)) from None
    audit.record(session, actor, "job.add", account=account, target=job.slug, after={"template": template, "name": job.name})
    return job
