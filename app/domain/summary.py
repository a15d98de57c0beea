"""Outcome counts over a date range and per-step statistics (SPEC "Metrics"), as plain values.

The store (:mod:`app.store.metrics`) fills them from the database; the rates
are derived here, so a page, the summary report and the alerts read the same
rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.stats import Rate

__all__ = ["Summary", "StepStat"]


@dataclass(frozen=True)
class Summary:
    """Outcome counts over a date range; the rates are properties returning :class:`Rate`.

    Attributes
    ----------
    outcomes : int
        Outcomes dated in the range, any status.
    open, closed, completed, escalated, failed : int
        By status; ``closed`` is completed + escalated + failed.
    autonomous : int
        Completed with no step performed by a human.
    reviewed : int
        Completed with verdict ``correct`` or ``incorrect``.
    correct, incorrect : int
        Verdicts among completed outcomes.
    billable : int
        Completed and not reviewed ``incorrect``.
    tasks : int
        Outcomes *started* in the range, any status.
    """

    outcomes: int = 0
    open: int = 0
    closed: int = 0
    completed: int = 0
    escalated: int = 0
    failed: int = 0
    autonomous: int = 0
    reviewed: int = 0
    correct: int = 0
    incorrect: int = 0
    billable: int = 0
    tasks: int = 0

    @property
    def completion_rate(self) -> Rate:
        """Completed / closed."""
        return Rate(self.completed, self.closed)

    @property
    def autonomous_rate(self) -> Rate:
        """Completed with no human step / closed."""
        return Rate(self.autonomous, self.closed)

    @property
    def escalation_rate(self) -> Rate:
        """Escalated / closed."""
        return Rate(self.escalated, self.closed)

    @property
    def accuracy(self) -> Rate:
        """Correct / (correct + incorrect) among completed; unreviewed outcomes never count."""
        return Rate(self.correct, self.correct + self.incorrect)

    @property
    def review_coverage(self) -> Rate:
        """Reviewed completed / completed."""
        return Rate(self.reviewed, self.completed)


@dataclass(frozen=True)
class StepStat:
    """Who performed one job-map step, and how often outcomes were handed off there.

    Attributes
    ----------
    step : str
        One of :data:`app.domain.steps.STEPS`.
    coverage : str or None
        The job's configured coverage level; None across several jobs.
    ai_runs, human_runs : int
        Outcomes in which the AI, or a human, performed the step.
    reached : int
        Outcomes in which the step was performed or handed off.
    handoffs : int
        Outcomes handed off to a human at this step.
    """

    step: str
    coverage: str | None
    ai_runs: int
    human_runs: int
    reached: int
    handoffs: int

    @property
    def runs(self) -> int:
        """Outcomes in which the step was performed at all."""
        return self.ai_runs + self.human_runs

    @property
    def ai_share(self) -> Rate:
        """Observed AI share: runs by the AI / runs at all."""
        return Rate(self.ai_runs, self.ai_runs + self.human_runs)

    @property
    def handoff_rate(self) -> Rate:
        """Outcomes handed off at this step / outcomes that reached it."""
        return Rate(self.handoffs, self.reached)
