"""The API's writes of one process, committed in groups: one transaction and one alert evaluation per group.

Why groups
----------
Every write that moves an account's figures evaluates the account's alert
states before it commits (:mod:`app.store.alert_states`): about four fifths of
a single-outcome POST's cost at 20,000 outcomes. SQLite lets one transaction
write at a time, so 16 clients each sending one outcome queued behind 16 such
evaluations and 16 commits. Here the writes that arrive while one group is
being written wait together and go in the next group: their work runs one
after the other in one transaction, each in its own savepoint, and the account
is evaluated once, at the commit, from the figures of all of them. A client
gets its answer only after that commit, so an answer still means "stored".

What stays as it was
--------------------
- Each request keeps its own audit entry, its own checks and its own result.
- A request whose work fails (an invalid review, an unknown outcome, any
  :class:`Exception`) has its savepoint rolled back and gets its own error;
  the others of its group still commit.
- A clash with another writer (another process on SQLite, a serialization
  failure on PostgreSQL) rolls the group back and runs it again, as
  :func:`app.core.db.run_in_transaction` always did; works read everything they
  need inside, so running them again is safe.
- Should the group fail as a whole for another reason (its commit, say), each
  of its requests is run again alone, so no request fails for another's sake.

Requests that can be written in one pass go in one: jobs submitted with the same
:class:`Merge` key (the outcomes POSTed to one account) are handed together to
the merge's ``run_many``, which writes them as if one came after the other
(:func:`app.store.ingest.ingest_requests`). Sixteen single-outcome POSTs then
cost one lookup of the stored rows and one write of the rollups, not sixteen.
Should ``run_many`` fail, each of them runs alone, in its own savepoint.

A group holds at most :data:`MAX_GROUP_ITEMS` outcomes (a full batch of 1,000
goes alone or nearly), so its transaction stays short.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

log = logging.getLogger("overseer.api")

#: Outcomes (a request's weight) one group may hold; the first request of a group always goes in.
MAX_GROUP_ITEMS = 1000
#: Attempts at a group that clashes with another writer, before its clients are answered 503.
ATTEMPTS = 5


@dataclass(frozen=True)
class Merge:
    """How a job may be written together with others of the same ``key``.

    ``run_many(session, payloads)`` returns one result per payload, in order, each
    as the job's own ``work`` would have returned it.
    """

    key: Hashable
    payload: object
    run_many: Callable[[Session, list], list]


@dataclass
class _Job:
    work: Callable[[Session], object]
    weight: int
    engine: Engine
    merge: Merge | None = None
    future: Future = field(default_factory=Future)


class WriteGroups:
    """One writer thread that takes the waiting writes and commits them as one group.

    Parameters
    ----------
    run_group : callable
        ``run_group(work, engine, attempts=...)`` runs ``work(session)`` as one transaction
        of ``engine``, again on a clash (:func:`app.core.db.run_in_transaction`).
    """

    def __init__(self, run_group: Callable | None = None, *, max_items: int = MAX_GROUP_ITEMS):
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._run_group = run_group
        self._max_items = max_items
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._carried: _Job | None = None  # taken from the queue, but too big for the group it came to

    def submit(
        self, work: Callable[[Session], object], weight: int = 1, merge: Merge | None = None, engine: Engine | None = None
    ) -> Future:
        """Queue ``work(session)``; the future holds its result once its group committed, or its error.

        The work runs on ``engine``, by default the process's engine as it is now: a write
        goes to the database its request came to, even if the process's engine is replaced
        before it runs (tests replace it between tests).
        """
        if engine is None:
            from app.core.db import get_engine

            engine = get_engine()
        job = _Job(work, max(1, weight), engine, merge)
        self._queue.put(job)
        self._start()
        return job.future

    async def run(self, work: Callable[[Session], object], weight: int = 1, merge: Merge | None = None) -> object:
        """:meth:`submit`, awaited on the running event loop."""
        return await asyncio.wrap_future(self.submit(work, weight, merge))

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="overseer-api-writer", daemon=True)
                self._thread.start()

    def _next_group(self) -> list[_Job]:
        first, self._carried = self._carried or self._queue.get(), None
        group, items = [first], first.weight
        while items < self._max_items:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if items + job.weight > self._max_items or job.engine is not first.engine:
                self._carried = job  # it opens the next group
                break
            group.append(job)
            items += job.weight
        return group

    def _loop(self) -> None:
        while True:
            group = self._next_group()
            try:
                self._write(group)
            except BaseException as exc:  # noqa: BLE001 - every waiting client gets an answer, whatever happened
                for job in group:
                    if not job.future.done():
                        job.future.set_exception(exc)

    def _runner(self) -> Callable:
        if self._run_group is not None:
            return self._run_group
        from app.core.db import run_in_transaction

        return run_in_transaction

    def _write(self, group: list[_Job]) -> None:
        run, engine = self._runner(), group[0].engine
        try:
            outcomes = run(lambda session: _group_work(session, group), engine, attempts=ATTEMPTS)
        except Exception as exc:
            if len(group) == 1:
                group[0].future.set_exception(exc)
                return
            # The group failed as a whole (not one work alone): each runs again on its own.
            log.warning("a group of %d API writes failed (%s); writing each alone", len(group),
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            for job in group:
                try:
                    job.future.set_result(run(job.work, engine, attempts=ATTEMPTS))
                except Exception as alone:  # noqa: BLE001 - that request's own answer
                    job.future.set_exception(alone)
            return
        for job, (ok, value) in zip(group, outcomes):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)


def _group_work(session: Session, group: list[_Job]) -> list[tuple[bool, object]]:
    """Every job's ``(ok, result or error)``, merged jobs together (in arrival order within their key)."""
    outcomes: list[tuple[bool, object] | None] = [None] * len(group)
    merged: dict[Hashable, list[int]] = {}
    for index, job in enumerate(group):
        if job.merge is None:
            outcomes[index] = _in_savepoint(session, job.work)
        else:
            merged.setdefault(job.merge.key, []).append(index)
    for indexes in merged.values():
        jobs = [group[i] for i in indexes]
        ok, values = (False, None)
        if len(jobs) > 1:
            ok, values = _in_savepoint(session, lambda s: jobs[0].merge.run_many(s, [job.merge.payload for job in jobs]))
        if ok:
            for i, value in zip(indexes, values):
                outcomes[i] = (True, value)
        else:  # one job, or the merge failed: each alone, with its own answer
            for i in indexes:
                outcomes[i] = _in_savepoint(session, group[i].work)
    return outcomes


def _in_savepoint(session: Session, work: Callable[[Session], object]) -> tuple[bool, object]:
    """``(True, result)`` of ``work(session)`` in a savepoint, or ``(False, error)`` with the savepoint undone.

    A write conflict is raised instead: the whole group's transaction is spoiled
    and runs again.
    """
    from app.core.db import is_write_conflict

    savepoint = session.begin_nested()
    try:
        value = work(session)
    except DBAPIError as exc:
        if savepoint.is_active:
            savepoint.rollback()
        if is_write_conflict(exc):
            raise
        return False, exc
    except Exception as exc:  # noqa: BLE001 - this request's error, answered to it alone
        if savepoint.is_active:
            savepoint.rollback()
        return False, exc
    if savepoint.is_active:
        savepoint.commit()
    return True, value


_groups: WriteGroups | None = None
_groups_lock = threading.Lock()


def write_groups() -> WriteGroups:
    """The process's writer (made on first use)."""
    global _groups
    if _groups is None:
        with _groups_lock:
            if _groups is None:
                _groups = WriteGroups()
    return _groups
