"""Product-team views across accounts, against outcomes whose figures are worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import pytest

from app.domain.errors import OverseerError
from app.domain.steps import STEPS
from app.store.accounts import create_job
from app.store.metrics import step_stats, summary
from app.store.portfolio import (
    COVERAGE_COLUMNS,
    HANDOFF_COLUMNS,
    QUALITY_COLUMNS,
    coverage_matrix,
    job_quality,
    top_handoff_steps,
)
from tests.factories import at
from tests.store.test_metrics import END, START, make_account, put
from tests.factories import OPERATOR

SUPPORT_WEIGHTS = [1.0, 1.0, 1.0, 0.5, 1.0, 0.5, 0.5, 1.0]  # customer-support template
ANALYSIS_WEIGHTS = [0.5, 1.0, 1.0, 0.5, 1.0, 0.5, 0.0, 1.0]  # data-analysis template


@pytest.fixture
def portfolio(session):
    acme, acme_cs = make_account(session, "acme")
    globex, globex_cs = make_account(session, "globex")
    globex_da = create_job(session, globex, "data-analysis")  # no outcomes
    # acme / customer-support, in range 2026-11-10 .. 12
    put(session, acme_cs, "completed", at("2026-11-10T09:00"), at("2026-11-10T10:00"), verdict="correct")
    put(session, acme_cs, "completed", at("2026-11-10T09:00"), at("2026-11-10T10:00"), verdict="incorrect", steps="aaaahaaa")
    put(session, acme_cs, "escalated", at("2026-11-11T09:00"), at("2026-11-11T10:00"), handoff="execute", steps="aaaahhhh")
    put(session, acme_cs, "open", at("2026-11-12T09:00"), steps="a-------")
    # out of range: must change nothing
    put(session, acme_cs, "escalated", at("2026-11-01T09:00"), at("2026-11-01T10:00"), handoff="define", steps="hhhhhhhh")
    # globex / customer-support
    put(session, globex_cs, "failed", at("2026-11-12T09:00"), at("2026-11-12T23:59:59"), steps="a-------")
    put(session, globex_cs, "escalated", at("2026-11-12T09:00"), at("2026-11-12T10:00"), handoff="define", steps="hhhhhhhh")
    session.commit()
    return {"acme": (acme, acme_cs), "globex": (globex, globex_cs, globex_da)}


def test_coverage_matrix_by_hand(session, portfolio):
    frame = coverage_matrix(session, OPERATOR, START, END)
    assert list(frame.columns) == list(COVERAGE_COLUMNS)
    assert len(frame) == 24
    assert list(zip(frame["account_slug"], frame["job_slug"]))[::8] == [
        ("acme", "customer-support"), ("globex", "customer-support"), ("globex", "data-analysis")
    ]
    assert list(frame["step"]) == list(STEPS) * 3
    assert list(frame["position"]) == list(range(8)) * 3
    assert list(frame["configured_weight"]) == SUPPORT_WEIGHTS * 2 + ANALYSIS_WEIGHTS
    assert frame["account_name"].iloc[0] == "Acme" and frame["job_name"].iloc[0] == "Resolve a support inquiry"

    acme = frame.iloc[0:8]
    # define: 4 AI runs of 4 (open outcome included); execute: 1 AI of 3; monitor: 2 AI of 3.
    assert list(acme["runs"]) == [4, 3, 3, 3, 3, 3, 3, 3]
    assert acme["observed_ai_share"].iloc[0] == 1.0
    assert acme["observed_ai_share"].iloc[4] == pytest.approx(1 / 3)
    assert acme["observed_ai_share"].iloc[5] == pytest.approx(2 / 3)
    globex = frame.iloc[8:16]
    # define: one AI (failed) and one human (escalated); the rest only by the human.
    assert list(globex["runs"]) == [2, 1, 1, 1, 1, 1, 1, 1]
    assert list(globex["observed_ai_share"]) == [0.5] + [0.0] * 7
    analysis = frame.iloc[16:24]
    assert list(analysis["runs"]) == [0] * 8
    assert all(v is None for v in analysis["observed_ai_share"])  # no runs: "—", not 0%
    assert list(analysis["coverage"])[6] == "manual"


def test_coverage_matrix_agrees_with_step_stats(session, portfolio):
    acme, acme_cs = portfolio["acme"]
    frame = coverage_matrix(session, OPERATOR, START, END)
    stats = step_stats(session, acme.id, START, END, job_id=acme_cs.id)
    rows = frame[frame["account_slug"] == "acme"]
    assert list(rows["runs"]) == [s.runs for s in stats]
    assert list(rows["observed_ai_share"]) == [s.ai_share.value for s in stats]
    assert list(rows["coverage"]) == [s.coverage for s in stats]


def test_coverage_matrix_empty_database(session):
    frame = coverage_matrix(session, OPERATOR, START, END)
    assert list(frame.columns) == list(COVERAGE_COLUMNS) and frame.empty


def test_top_handoff_steps_by_hand(session, portfolio):
    frame = top_handoff_steps(session, OPERATOR, START, END, limit=4)
    assert list(frame.columns) == list(HANDOFF_COLUMNS)
    # globex define 1 of 2 = 0.5; acme execute 1 of 3; then 0% steps by account, job, step order.
    assert frame.to_dict("records") == [
        {"account_slug": "globex", "job_slug": "customer-support", "step": "define", "handoffs": 1, "reached": 2, "handoff_rate": 0.5},
        {"account_slug": "acme", "job_slug": "customer-support", "step": "execute", "handoffs": 1, "reached": 3, "handoff_rate": 1 / 3},
        {"account_slug": "acme", "job_slug": "customer-support", "step": "define", "handoffs": 0, "reached": 4, "handoff_rate": 0.0},
        {"account_slug": "acme", "job_slug": "customer-support", "step": "locate", "handoffs": 0, "reached": 3, "handoff_rate": 0.0},
    ]


def test_top_handoff_steps_only_reached_and_default_limit(session, portfolio):
    frame = top_handoff_steps(session, OPERATOR, START, END)
    assert len(frame) == 10
    assert (frame["reached"] > 0).all()
    everything = top_handoff_steps(session, OPERATOR, START, END, limit=100)
    # 8 steps reached at acme, 8 at globex (define by two, the rest by the escalated one); none at data-analysis.
    assert len(everything) == 16
    assert "data-analysis" not in set(everything["job_slug"])
    assert list(everything["handoff_rate"]) == sorted(everything["handoff_rate"], reverse=True)


def test_top_handoff_steps_ties_go_to_more_handoffs(session):
    _, acme_cs = make_account(session, "acme")
    _, zeta_cs = make_account(session, "zeta")
    # acme: 1 of 2 handed off at confirm; zeta: 2 of 4 at confirm. Same 50%, zeta has more hand-offs.
    put(session, acme_cs, "escalated", at("2026-11-10T09:00"), at("2026-11-10T10:00"), handoff="confirm", steps="aaa-----")
    put(session, acme_cs, "completed", at("2026-11-10T09:00"), at("2026-11-10T10:00"), steps="aaaa----")
    for _ in range(2):
        put(session, zeta_cs, "escalated", at("2026-11-10T09:00"), at("2026-11-10T10:00"), handoff="confirm", steps="aaa-----")
        put(session, zeta_cs, "completed", at("2026-11-10T09:00"), at("2026-11-10T10:00"), steps="aaaa----")
    session.commit()
    frame = top_handoff_steps(session, OPERATOR, START, END, limit=2)
    assert list(zip(frame["account_slug"], frame["step"], frame["handoffs"], frame["reached"])) == [
        ("zeta", "confirm", 2, 4),
        ("acme", "confirm", 1, 2),
    ]


def test_top_handoff_steps_refuses_bad_limit_and_handles_empty(session):
    with pytest.raises(OverseerError):
        top_handoff_steps(session, OPERATOR, START, END, limit=0)
    frame = top_handoff_steps(session, OPERATOR, START, END)
    assert list(frame.columns) == list(HANDOFF_COLUMNS) and frame.empty


def test_job_quality_by_hand(session, portfolio):
    frame = job_quality(session, OPERATOR, START, END)
    assert list(frame.columns) == list(QUALITY_COLUMNS)
    rows = frame.to_dict("records")
    assert [(r["account_slug"], r["job_slug"]) for r in rows] == [
        ("acme", "customer-support"), ("globex", "customer-support"), ("globex", "data-analysis")
    ]
    acme, globex, analysis = rows
    # acme: 3 closed (2 completed, 1 escalated; the open one and the November 1st one do not count)
    assert (acme["closed"], acme["completed"], acme["accuracy_n"]) == (3, 2, 2)
    assert acme["completion_rate"] == pytest.approx(2 / 3) and acme["accuracy"] == 0.5
    # Wilson 95% for 1 of 2, by hand: centre 0.5, half-width 1.96 * sqrt(1/8 + 3.8415/16) / (1 + 3.8415/2) = 0.4055
    assert acme["accuracy_low"] == pytest.approx(0.0945, abs=1e-4)
    assert acme["accuracy_high"] == pytest.approx(0.9055, abs=1e-4)
    # globex: failed + escalated, nothing completed: a real 0% completion, accuracy "—"
    assert (globex["closed"], globex["completion_rate"], globex["accuracy"], globex["accuracy_n"]) == (2, 0.0, None, 0)
    assert globex["accuracy_low"] is None and globex["accuracy_high"] is None
    # data-analysis: no outcomes at all, every rate "—"
    assert (analysis["closed"], analysis["completion_rate"], analysis["accuracy"], analysis["accuracy_n"]) == (0, None, None, 0)
    for r in rows:
        for name in ("completion_rate", "accuracy"):
            assert r[name] is None or not math.isnan(r[name])


def test_job_quality_agrees_with_summary(session, portfolio):
    acme, acme_cs = portfolio["acme"]
    s = summary(session, acme.id, START, END, job_id=acme_cs.id)
    row = job_quality(session, OPERATOR, START, END).iloc[0]
    assert row["closed"] == s.closed
    assert row["completion_rate"] == s.completion_rate.value
    assert row["accuracy"] == s.accuracy.value
    assert row["accuracy_n"] == s.accuracy.denominator


def test_portfolio_refuses_reversed_range(session, portfolio):
    for view in (coverage_matrix, top_handoff_steps, job_quality):
        with pytest.raises(OverseerError, match="before it starts"):
            view(session, OPERATOR, END, START)


def test_day_boundaries_apply(session, portfolio):
    # globex's failed outcome closed at 23:59:59 on the 12th: in a range ending on the 12th only.
    assert job_quality(session, OPERATOR, date(2026, 11, 12), date(2026, 11, 12)).iloc[1]["closed"] == 2
    assert job_quality(session, OPERATOR, date(2026, 11, 13), date(2026, 11, 13)).iloc[1]["closed"] == 0
