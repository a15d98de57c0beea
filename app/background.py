"""Work that lives as long as the server: the App's lifespan, and the list of what it starts.

The API server (:mod:`app.server`) enters every starter of :data:`STARTERS` when it
starts and leaves them, in reverse order, when it stops. A starter is a function
taking the ``st.App`` and returning an async context manager, such as
:func:`app.notify.worker.lifespan`, the notification worker (it sends the outbox's
webhooks and e-mails, and re-evaluates alert states as time moves figures;
``OVERSEER_NOTIFY_WORKER=0`` leaves that to other servers or to ``overseer notify run``).

The starters are entered under ``uvicorn app.server:app`` and ``overseer start`` alike.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from app.notify import worker as notify_worker
from app.ui import warm

#: Functions ``starter(app) -> async context manager``, entered in order at start-up: the process is
#: warmed for its first visitor (:mod:`app.ui.warm`) before the server takes requests.
STARTERS: list[Callable[[object], AbstractAsyncContextManager]] = [warm.lifespan, notify_worker.lifespan]


@asynccontextmanager
async def lifespan(app):
    """The App's lifespan: enter every starter of :data:`STARTERS`, leave them at shutdown."""
    async with AsyncExitStack() as stack:
        for starter in list(STARTERS):
            await stack.enter_async_context(starter(app))
        yield {}
