"""The verdict in force over time, and what it bills (SPEC "Billing over time"), pure.

The verdict in force at a moment is that of the latest review made at or before
it (the one recorded last on a tie); unreviewed if none. For billing only one
thing matters: whether it is ``incorrect``. An outcome's review history is
therefore reduced to its *incorrect spans*: the maximal intervals
``[start, end)`` during which its verdict in force is ``incorrect`` (``end``
None while it still is).

From the spans, with ``c`` the outcome's ``completed_at``, ``ME`` the end of
its month and ``as_of`` the moment billed at (reviews after it do not exist yet):

- it is billed in its own month unless a span covers that month's end (or
  ``as_of``, if earlier): ``start <= as_of``, ``start < ME`` and the span has
  not ended by then (``end`` None, after ``as_of``, or at or after ``ME``);
- a span starting after its month ended credits it, in the month of ``start``;
- a span ending (by ``as_of``) after its month ended charges it, in the month of ``end``.

Spans are disjoint and separated, so credits and charges alternate and the
outcome is billed at most once, net, over its life: never credited unless
billed, credited once however often it is reviewed incorrect again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Span:
    """A time during which the outcome's verdict in force is ``incorrect``: ``[start, end)``."""

    start: datetime
    end: datetime | None


def incorrect_spans(reviews: Iterable[tuple[datetime, str]]) -> list[Span]:
    """The incorrect spans of a review history.

    Parameters
    ----------
    reviews : iterable of (datetime, str)
        ``(reviewed_at, verdict)`` in the order they take effect: by time, then
        the order they were recorded (so that, on a tie, the later one wins).

    Returns
    -------
    list of Span
        In time order; two reviews at the same instant leave only the last one in force.
    """
    # Reviews at one instant: only the one recorded last is ever in force.
    settled: list[tuple[datetime, str]] = []
    for at, verdict in reviews:
        if settled and settled[-1][0] == at:
            settled[-1] = (at, verdict)
        else:
            settled.append((at, verdict))
    spans: list[Span] = []
    start: datetime | None = None
    for at, verdict in settled:
        if verdict == "incorrect":
            if start is None:
                start = at
        elif start is not None:
            spans.append(Span(start, at))
            start = None
    if start is not None:
        spans.append(Span(start, None))
    return spans


def _ym(moment: datetime) -> int:
    return moment.year * 12 + moment.month


@dataclass(frozen=True)
class Event:
    """A credit (``sign`` -1) or charge (+1) of an outcome after its own month.

    ``source`` is the month (``year * 12 + month``) of the bill a credit takes
    back: the outcome's own month, or the month of its latest charge.
    """

    at: datetime
    sign: int
    source: int

    @property
    def month(self) -> int:
        return _ym(self.at)


@dataclass(frozen=True)
class Billing:
    """What an outcome bills: in its own month or not, then its credits and charges in time order."""

    own_month: bool
    events: tuple[Event, ...]

    @property
    def net(self) -> int:
        return int(self.own_month) + sum(e.sign for e in self.events)


def billing_of(completed_at: datetime, spans: Iterable[Span], as_of: datetime) -> Billing:
    """Whether an outcome completed at ``completed_at`` is billed in its month, and its later credits and charges.

    Parameters
    ----------
    completed_at : datetime
        Aware; the outcome must be completed by ``as_of``.
    spans : iterable of Span
        From :func:`incorrect_spans`, in time order.
    as_of : datetime
        Aware; a span's start or end after it has not happened yet.
    """
    own = _ym(completed_at)
    covered = False
    events: list[Event] = []
    source = own
    for span in spans:
        if span.start > as_of:
            continue
        ended = span.end is not None and span.end <= as_of
        if _ym(span.start) <= own:
            if not ended or _ym(span.end) > own:
                covered = True
        else:
            events.append(Event(span.start, -1, source))
        if ended and _ym(span.end) > own:
            events.append(Event(span.end, 1, _ym(span.end)))
            source = _ym(span.end)
    return Billing(not covered, tuple(events))


__all__ = ["Billing", "Event", "Span", "billing_of", "incorrect_spans"]
