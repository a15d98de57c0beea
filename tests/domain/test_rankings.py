"""The Portfolio's rankings and headline (app.domain.rankings): pure, no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.rankings import portfolio_headline, rank_accounts_by_handoffs, rank_steps_by_ai_share
from app.domain.steps import STEPS


def _row(account: str, step: str, ai_runs: int, runs: int, handoffs: int) -> dict:
    return {"account_id": account, "account_slug": account, "account_name": account.title(), "job_slug": "j", "step": step,
            "ai_runs": ai_runs, "runs": runs, "handoffs": handoffs}


def test_the_headline_names_the_lowest_step_and_the_account_that_hands_off_most():
    rows = [_row("acme", "define", 9, 10, 1), _row("acme", "execute", 2, 10, 6), _row("beta", "execute", 5, 10, 3)]
    steps, accounts = rank_steps_by_ai_share(rows), rank_accounts_by_handoffs(rows)
    head = portfolio_headline(steps, accounts, [None, "allowance", "conversion", None])
    assert head.lowest.step == "execute" and (head.lowest.ai_runs, head.lowest.runs) == (7, 20)
    assert head.handoffs == 10
    assert head.most_handoffs.slug == "acme" and head.most_handoffs.handoffs == 7
    assert (head.on_trial, head.paid_after_trial, head.converted) == (2, 2, 1)


def test_nothing_ran_and_nothing_handed_off():
    head = portfolio_headline([], [], [])
    assert head.lowest is None and head.most_handoffs is None
    assert (head.handoffs, head.on_trial, head.paid_after_trial, head.converted) == (0, 0, 0, 0)
    quiet = rank_accounts_by_handoffs([_row("acme", "define", 10, 10, 0)])
    assert portfolio_headline([], quiet, []).most_handoffs is None  # an account with no handoff is not "the most"


rows_strategy = st.lists(
    st.builds(
        lambda a, s, runs, ai, h: _row(a, s, min(ai, runs), runs, min(h, runs)),
        st.sampled_from(["acme", "beta", "cello"]), st.sampled_from(STEPS),
        st.integers(1, 50), st.integers(0, 50), st.integers(0, 50),
    ),
    max_size=20,
)


@given(rows_strategy, st.lists(st.sampled_from([None, "allowance", "conversion"]), max_size=10))
def test_the_headline_agrees_with_the_rows(rows, activated):
    head = portfolio_headline(rank_steps_by_ai_share(rows), rank_accounts_by_handoffs(rows), activated)
    assert head.handoffs == sum(r["handoffs"] for r in rows)
    assert head.on_trial + head.paid_after_trial == len(activated)
    assert head.converted <= head.paid_after_trial
    if head.lowest is not None:
        per_step: dict[str, list[int]] = {}
        for r in rows:
            got = per_step.setdefault(r["step"], [0, 0])
            got[0] += r["ai_runs"]
            got[1] += r["runs"]
        assert all(head.lowest.ai_runs * runs <= ai * head.lowest.runs for ai, runs in per_step.values())
    if head.most_handoffs is not None:
        per_account: dict[str, int] = {}
        for r in rows:
            per_account[r["account_slug"]] = per_account.get(r["account_slug"], 0) + r["handoffs"]
        assert head.most_handoffs.handoffs == max(per_account.values()) > 0
