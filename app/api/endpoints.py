"""The API's endpoints under ``/api/v1``: each reads its request, calls the store, and shapes the JSON.

The rules live below: outcomes are checked and merged by the file import's own code
(:func:`app.store.ingest.ingest_items`), reviews follow the page's rules
(:func:`app.store.reviews.review_outcome`), the usage figures are the Overview's
(:func:`app.store.overview.overview_figures`) and an invoice is the JSON of
``overseer invoice --json``. The document describing them is :mod:`app.api.openapi`.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date, datetime

from starlette.requests import Request
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Route

from app.api import openapi
from app.api.http import ApiError, endpoint, json_body, run_read, run_write
from app.api.write_groups import Merge
from app.core import clock
from app.domain.errors import OverseerError
from app.domain.ingest_rows import FUTURE_SLACK, MAX_YEAR, MIN_YEAR, parse_time
from app.domain.money import money_str
from app.domain.steps import STEPS, step_column
from app.store.api_keys import Caller, check_can_write
from app.store.ingest import ItemsRequest, ingest_requests

class _Anything(Convertor):
    """A path segment run that may hold any character, line breaks included (Starlette's ``path`` stops at them).

    Outcome ids may hold any storable character, and a path no route takes must still get the API's 404.
    """

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anything", _Anything())

PREFIX = "/api/v1"
MAX_ITEMS = 1000
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def _forbid_read_key(caller: Caller) -> None:
    try:
        check_can_write(caller)
    except OverseerError as exc:  # a read key that writes is 403, not the 422 of other refusals
        raise ApiError(403, "forbidden", str(exc)) from None


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name)
    if value is None:
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ApiError(422, "invalid", f"{name} must be true or false, got {value[:40]!r}")


def _reviewer_label(caller: Caller) -> str:
    return f"API key {caller.prefix}"


# --- POST /outcomes -----------------------------------------------------------------------------


async def post_outcomes(request: Request, caller: Caller):
    _forbid_read_key(caller)
    atomic = _flag(request, "atomic")
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("outcomes"), list):
        raise ApiError(422, "invalid", 'the body must be an object {"outcomes": [...]}')
    items = body["outcomes"]
    if not 1 <= len(items) <= MAX_ITEMS:
        raise ApiError(422, "invalid", f"send 1 to {MAX_ITEMS:,} outcomes at a time, got {len(items):,}")
    request_ = ItemsRequest(items, caller.principal, _reviewer_label(caller), atomic)
    report = await run_write(
        lambda session: ingest_requests(session, caller.account, [request_])[0],
        weight=len(items),
        merge=Merge(("outcomes", caller.account.id), request_, functools.partial(_ingest_many, caller.account)),
    )
    results = [
        {
            "index": index,
            "outcome_id": _outcome_id_of(items[index]),
            "status": status,
            "errors": [{"field": e.column, "reason": e.reason} for e in errors],
        }
        for index, (status, errors) in enumerate(report.results)
    ]
    counts = {name: report.count(name) for name in ("inserted", "updated", "unchanged", "invalid")}
    if atomic and counts["invalid"]:
        raise ApiError(
            422, "invalid_items",
            f"{counts['invalid']:,} of {len(items):,} outcomes are invalid; with atomic=true nothing was written",
            extra={"results": results, "inserted": 0, "updated": 0, "unchanged": 0, "invalid": counts["invalid"]},
        )
    return 200, {"results": results, **counts}


def _ingest_many(account, session, requests: list) -> list:
    return ingest_requests(session, account, requests)


def _outcome_id_of(item: object) -> str | None:
    value = item.get("outcome_id") if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip() if isinstance(value, str) or value.bit_length() < 64 else None
    return text[:200] if text is not None else None


# --- POST /outcomes/{job}/{outcome_id}/reviews ---------------------------------------------------


async def post_review(request: Request, caller: Caller):
    _forbid_read_key(caller)
    job, outcome_id = request.path_params["job"], request.path_params["outcome_id"]
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(422, "invalid", 'the body must be an object {"verdict", "reviewer", "comment"?, "reviewed_at"?}')
    verdict, reviewer = body.get("verdict"), body.get("reviewer")
    comment, at_text = body.get("comment", ""), body.get("reviewed_at")
    if not isinstance(verdict, str) or verdict not in ("correct", "incorrect"):
        raise ApiError(422, "invalid", "verdict must be 'correct' or 'incorrect'")
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise ApiError(422, "invalid", "reviewer must be a non-empty text: the person who reviewed the outcome")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise ApiError(422, "invalid", "comment must be text")
    at = None
    if at_text is not None:
        if not isinstance(at_text, str):
            raise ApiError(422, "invalid", "reviewed_at must be an ISO 8601 time")
        try:
            at = parse_time(at_text.strip())
        except ValueError as exc:
            raise ApiError(422, "invalid", f"reviewed_at {exc}") from None
        if at > clock.now() + FUTURE_SLACK:
            raise ApiError(422, "invalid", "reviewed_at is more than 5 minutes in the future")

    def work(session):
        from app.store.reviews import get_outcome as find, review_outcome

        if at is not None:
            # As an import's reviewed_at: a verdict cannot predate the outcome it judges.
            completed = find(session, caller.account, job, outcome_id).completed_at
            if completed is not None and at < clock.stored_utc(completed):
                raise OverseerError("reviewed_at is before the outcome's completed_at")
        review = review_outcome(
            session, caller.principal, caller.account, job, outcome_id, verdict, reviewer=reviewer, comment=comment, at=at
        )
        return {
            "job": job,
            "outcome_id": outcome_id,
            "verdict": review.verdict,
            "reviewer": review.reviewer,
            "comment": review.comment,
            "reviewed_at": clock.stored_utc(review.reviewed_at).isoformat(),
        }

    return 201, await run_write(work)


# --- GET /outcomes/{job}/{outcome_id} -----------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else clock.stored_utc(moment).isoformat()


async def get_outcome(request: Request, caller: Caller):
    job_slug, outcome_id = request.path_params["job"], request.path_params["outcome_id"]

    def read(session):
        from app.store.accounts import get_job, job_steps
        from app.store.reviews import get_outcome as find, review_history

        outcome = find(session, caller.account, job_slug, outcome_id)
        steps = {s.step: s for s in job_steps(session, get_job(session, caller.account, job_slug))}
        return {
            "job": job_slug,
            "outcome_id": outcome.outcome_id,
            "started_at": _time(outcome.started_at),
            "completed_at": _time(outcome.completed_at),
            "status": outcome.status,
            "verdict": outcome.verdict,
            "reviewed_at": _time(outcome.reviewed_at),
            "handoff_step": outcome.handoff_step,
            "summary": outcome.summary,
            "url": outcome.url,
            "steps": [
                {
                    "step": step,
                    "performer": getattr(outcome, step_column(step)),
                    "handed_off": outcome.handoff_step == step,
                    "coverage": steps[step].coverage if step in steps else None,
                    "description": steps[step].description if step in steps else "",
                }
                for step in STEPS
            ],
            "reviews": [
                {
                    "verdict": r.verdict,
                    "reviewer": r.reviewer,
                    "comment": r.comment,
                    "reviewed_at": _time(r.reviewed_at),
                    "source": r.source,
                }
                for r in review_history(session, outcome)
            ],
        }

    return 200, await run_read(read)


# --- GET /usage ----------------------------------------------------------------------------------


def usage_json(session, account, as_of: datetime) -> dict:
    """The current month's figures of the Overview, as ``GET /api/v1/usage`` answers them."""
    from app.store.overview import overview_figures

    start = date(as_of.year, as_of.month, 1)
    end = start.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    figures = overview_figures(session, account, start, end, as_of=as_of)
    invoice, state, projected = figures.invoice, figures.billing, figures.invoice.projected
    billable = figures.own_month.billed if figures.own_month is not None else figures.summary.billable
    return {
        "month": f"{as_of.year:04d}-{as_of.month:02d}",
        "currency": invoice.currency,
        "free_used": state.free_used,
        "free_remaining": state.free_remaining,
        "billable_outcomes": billable,
        "bill_so_far": money_str(invoice.total),
        "projection": None if projected is None else {
            "outcomes": projected.outcomes,
            "total": money_str(projected.total),
            "low": money_str(projected.low),
            "high": money_str(projected.high),
        },
        "allowance_runs_out": (
            projected.allowance_runs_out.isoformat()
            if projected is not None and projected.allowance_runs_out is not None and state.free_remaining
            else None
        ),
        "alerts": [{"severity": a.severity, "code": a.code, "message": a.message} for a in figures.alerts],
    }


async def get_usage(request: Request, caller: Caller):
    now = clock.now()
    return 200, await run_read(lambda session: usage_json(session, caller.account, now))


# --- GET /invoices/{month} -----------------------------------------------------------------------


async def get_invoice(request: Request, caller: Caller):
    text = request.path_params["month"]
    match = _MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12 or not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
        raise ApiError(422, "invalid", f"month must be YYYY-MM between {MIN_YEAR} and {MAX_YEAR}, got {text[:40]!r}")
    year, month = int(match.group(1)), int(match.group(2))
    now = clock.now()
    if (year, month) > (now.year, now.month):
        raise ApiError(404, "not_found", f"{text} has not started yet: there is no invoice for it")

    def work(session):
        from app.store.billing import invoice_for_month
        from app.store.closing import close_due

        # Months past their grace period close before anything is shown, as on every page and command.
        close_due(session, caller.account, now)
        return invoice_for_month(session, caller.account, year, month, as_of=now).to_json()

    return 200, await run_write(work)


async def get_openapi(request: Request, caller):
    return 200, openapi.document()


async def not_found(request: Request, caller):
    raise ApiError(404, "not_found", f"no endpoint {request.url.path[:200]!r}; see {PREFIX}/openapi.json")


_ANY = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _unknown_path():
    # No key needed to learn that a path does not exist, and every method gets the same 404.
    return endpoint({m: not_found for m in _ANY}, public=True)


ROUTES = [
    Route(f"{PREFIX}/openapi.json", endpoint({"GET": get_openapi}, public=True), methods=list(_ANY)),
    Route(f"{PREFIX}/outcomes", endpoint({"POST": post_outcomes}), methods=list(_ANY)),
    Route(f"{PREFIX}/outcomes/{{job}}/{{outcome_id:anything}}/reviews", endpoint({"POST": post_review}), methods=list(_ANY)),
    Route(f"{PREFIX}/outcomes/{{job}}/{{outcome_id:anything}}", endpoint({"GET": get_outcome}), methods=list(_ANY)),
    Route(f"{PREFIX}/usage", endpoint({"GET": get_usage}), methods=list(_ANY)),
    Route(f"{PREFIX}/invoices/{{month}}", endpoint({"GET": get_invoice}), methods=list(_ANY)),
    Route(PREFIX, _unknown_path(), methods=list(_ANY)),
    Route(f"{PREFIX}/{{rest:anything}}", _unknown_path(), methods=list(_ANY)),
]
