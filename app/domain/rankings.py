"""Rankings that answer "where does the AI give up?": pure, no database (issue 17).

Rules chosen where SPEC is silent:

- The Overview's weakest step is the (job, step) with the most handoffs in
  the range; ties go to the higher handoff rate, then to the job's order and
  the step's job-map order. No handoff at all: no weakest step.
- The Portfolio ranks steps by observed AI share across accounts: AI runs /
  runs of the step summed over every account and job (not an average of
  shares, so a busy account weighs what it ran), lowest first; a step never
  run is left out. Accounts rank by handoffs, most first, ties by name.
- The Portfolio's headline: the lowest-ranked step, the handoffs of every account
  together and the account with most, and where the trials stand (still on the
  free allowance, or paid since it ran out or since an early conversion).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.domain.stats import Rate
from app.domain.steps import STEPS

__all__ = [
    "AccountRank", "PortfolioHeadline", "WeakestStep", "StepRank", "portfolio_headline", "weakest_step",
    "rank_accounts_by_handoffs", "rank_steps_by_ai_share",
]


@dataclass(frozen=True)
class WeakestStep:
    """The step where the AI handed off most: which job, which step, how many of how many."""

    job_slug: str
    job_name: str
    step: str
    handoffs: int
    reached: int

    @property
    def rate(self) -> Rate:
        """Handoffs at the step / outcomes that reached it."""
        return Rate(self.handoffs, self.reached)


def weakest_step(per_job: Sequence[tuple[str, str, Sequence]]) -> WeakestStep | None:
    """The (job, step) with the most handoffs.

    Parameters
    ----------
    per_job : sequence of (job slug, job name, step stats)
        Step stats as :class:`app.domain.summary.StepStat` (``step``, ``handoffs``, ``reached``), jobs in their order.

    Returns
    -------
    WeakestStep or None
        None when no step handed anything off.
    """
    best, best_key = None, None
    for j, (slug, name, stats) in enumerate(per_job):
        for s in stats:
            if not s.handoffs:
                continue
            key = (-s.handoffs, -(s.handoffs / s.reached if s.reached else 0), j, STEPS.index(s.step))
            if best_key is None or key < best_key:
                best, best_key = WeakestStep(slug, name, s.step, s.handoffs, s.reached), key
    return best


@dataclass(frozen=True)
class StepRank:
    """A step's observed AI share summed across accounts."""

    step: str
    ai_runs: int
    runs: int
    handoffs: int
    accounts: int

    @property
    def ai_share(self) -> Rate:
        return Rate(self.ai_runs, self.runs)


def rank_steps_by_ai_share(rows: Iterable[dict]) -> list[StepRank]:
    """Steps ranked by observed AI share across accounts, lowest first.

    Parameters
    ----------
    rows : iterable of dict
        One per account, job and step, with ``account_id``, ``step``, ``ai_runs``,
        ``runs`` and ``handoffs``.

    Returns
    -------
    list of StepRank
        Steps with at least one run; ties by handoffs (more first), then job-map order.
    """
    sums: dict[str, list] = {}
    for r in rows:
        entry = sums.setdefault(r["step"], [0, 0, 0, set()])
        entry[0] += int(r["ai_runs"])
        entry[1] += int(r["runs"])
        entry[2] += int(r["handoffs"])
        if int(r["runs"]):
            entry[3].add(r["account_id"])
    ranks = [StepRank(step, a, n, h, len(accs)) for step, (a, n, h, accs) in sums.items() if n]
    return sorted(ranks, key=lambda s: (s.ai_runs / s.runs, -s.handoffs, STEPS.index(s.step)))


@dataclass(frozen=True)
class AccountRank:
    """An account's handoffs in the range, and the step where it hands off most."""

    slug: str
    name: str
    handoffs: int
    top_step: str | None
    top_step_handoffs: int


def rank_accounts_by_handoffs(rows: Iterable[dict]) -> list[AccountRank]:
    """Accounts ranked by handoffs (outcomes handed to a person at some step), most first, ties by name.

    Parameters
    ----------
    rows : iterable of dict
        As for :func:`rank_steps_by_ai_share`, with ``account_slug`` and ``account_name``.

    Returns
    -------
    list of AccountRank
        Every account with a row; its top step is the step with most handoffs summed
        over its jobs (ties by job-map order), None when it handed nothing off.
    """
    per: dict[str, dict] = {}
    for r in rows:
        entry = per.setdefault(r["account_slug"], {"name": r["account_name"], "steps": {}})
        entry["steps"][r["step"]] = entry["steps"].get(r["step"], 0) + int(r["handoffs"])
    ranks = []
    for slug, entry in per.items():
        steps = entry["steps"]
        total = sum(steps.values())
        top = min(steps, key=lambda s: (-steps[s], STEPS.index(s))) if total else None
        ranks.append(AccountRank(slug, entry["name"], total, top, steps[top] if top else 0))
    return sorted(ranks, key=lambda a: (-a.handoffs, a.name, a.slug))


@dataclass(frozen=True)
class PortfolioHeadline:
    """The Portfolio's tiles.

    Attributes
    ----------
    lowest : StepRank or None
        The step with the lowest observed AI share (None when no step ran).
    handoffs : int
        Outcomes handed to a person, every account together.
    most_handoffs : AccountRank or None
        The account that handed off most (None when nothing was handed off).
    on_trial, paid_after_trial, converted : int
        Accounts with a free allowance: still on it; paid since it ran out or since
        an early conversion; of those, converted early.
    """

    lowest: StepRank | None
    handoffs: int
    most_handoffs: AccountRank | None
    on_trial: int
    paid_after_trial: int
    converted: int


def portfolio_headline(
    steps: Sequence[StepRank], accounts: Sequence[AccountRank], trials_activated_by: Iterable[str | None]
) -> PortfolioHeadline:
    """The Portfolio's headline from its rankings and its trials.

    Parameters
    ----------
    steps : sequence of StepRank
        As :func:`rank_steps_by_ai_share` returns them (lowest first).
    accounts : sequence of AccountRank
        As :func:`rank_accounts_by_handoffs` returns them (most first).
    trials_activated_by : iterable of str or None
        For each account with a free allowance, what started its paid plan:
        ``"allowance"``, ``"conversion"``, or None while it is still on the allowance.
    """
    activated = list(trials_activated_by)
    top = accounts[0] if accounts and accounts[0].handoffs else None
    return PortfolioHeadline(
        lowest=steps[0] if steps else None,
        handoffs=sum(a.handoffs for a in accounts),
        most_handoffs=top,
        on_trial=sum(1 for a in activated if a is None),
        paid_after_trial=sum(1 for a in activated if a is not None),
        converted=sum(1 for a in activated if a == "conversion"),
    )
