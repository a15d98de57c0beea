"""Work that lives as long as the server: the App's lifespan, and the list of what it starts.

The API server (:mod:`app.server`) enters every starter of :data:`STARTERS` when it
starts and leaves them, in reverse order, when it stops. A starter is a function
taking the ``st.App`` and returning an async context manager; a background job
(a delivery worker, say) adds its starter to the list where it is defined::

    from app import background

    @asynccontextmanager
    async def deliveries(app):
        task = asyncio.create_task(deliver_forever())
        try:
            yield
        finally:
            task.cancel()

    background.STARTERS.append(deliveries)

The starters are entered under ``uvicorn app.server:app`` and ``overseer start`` alike.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

#: Functions ``starter(app) -> async context manager``, entered in order at start-up.
STARTERS: list[Callable[[object], AbstractAsyncContextManager]] = []


@asynccontextmanager
async def lifespan(app):
    """The App's lifespan: enter every starter of :data:`STARTERS`, leave them at shutdown."""
    async with AsyncExitStack() as stack:
        for starter in list(STARTERS):
            await stack.enter_async_context(starter(app))
        yield {}
