"""Honest trial readiness (issue 17, point 2): no targets, not yet, likely ready with N computed, ready."""

from __future__ import annotations

from app.domain.stats import more_to_clear, wilson_interval
from app.store.trial import trial_status
from tests.factories import add_outcomes, at
from tests.store.test_trial import AS_OF, _trial


def test_more_to_clear_against_a_hand_computation():
    # 5 of 5 against 90%: the lower bound is 1 / (1 + z²/n), at least 0.9 from n = 35 (z² = 3.8415: 9 z² = 34.57).
    assert more_to_clear(5, 5, 0.9) == 30
    assert wilson_interval(35, 35)[0] >= 0.9 > wilson_interval(34, 34)[0]
    assert more_to_clear(70, 100, 0.6) == 0  # already clear
    assert more_to_clear(7, 10, 0.7) is None  # exactly on target: never clears
    # At the same share (80%) against 70%: 80 outcomes (64 of 80) do not clear it, 81 (64.8 of 81) do: 71 more after 10.
    assert more_to_clear(8, 10, 0.7) == 71
    assert wilson_interval(64, 80)[0] < 0.7 <= wilson_interval(68, 85)[0]


def test_no_targets_set_is_said_so_not_ready(session):
    account, job = _trial(session, completion=None, accuracy=None)
    add_outcomes(session, account, job, [at("2026-11-15T10:00")])
    assert trial_status(session, account, as_of=AS_OF).readiness.state == "no targets"


def test_a_met_target_on_a_small_sample_is_likely_ready_with_the_reviews_still_needed(session):
    account, job = _trial(session, completion=None, accuracy="0.90")
    add_outcomes(session, account, job, [at("2026-11-20T11:00")] * 5, verdict="correct", reviewed_at=at("2026-11-21T09:00"))
    r = trial_status(session, account, as_of=AS_OF).readiness
    assert r.state == "likely" and r.unsure == (("Accuracy", 30),)


def test_ready_only_with_the_interval_clear(session):
    account, job = _trial(session, completion=None, accuracy="0.90")
    add_outcomes(session, account, job, [at("2026-11-20T11:00")] * 35, verdict="correct", reviewed_at=at("2026-11-21T09:00"))
    assert trial_status(session, account, as_of=AS_OF).readiness.state == "ready"


def test_below_target_is_not_yet(session):
    account, job = _trial(session, completion="0.80", accuracy=None)
    add_outcomes(session, account, job, [at("2026-11-15T10:00")] * 3)
    add_outcomes(session, account, job, [at("2026-11-16T10:00")] * 2, status="failed")
    r = trial_status(session, account, as_of=AS_OF).readiness
    assert r.state == "not yet" and r.failing == ("Completion rate",)
