"""What every API request goes through: its id, the key, the rate, the body and the error shape.

Starlette does the HTTP; this module only decides the answers the API promises
(README "API"): JSON everywhere, an error is ``{"error": {"code", "message"}}``,
every response carries ``X-Request-ID``, and no request ever gets a traceback:
an unexpected failure is logged with its request id and answered 500 with that id.

Database reads run on Starlette's thread pool (the store is synchronous), writes on
the process's writer thread (:mod:`app.api.write_groups`); the event loop only reads
bodies and writes answers.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from app.api.write_groups import Merge, write_groups
from app.core import config
from app.core.db import DatabaseUnusable
from app.domain import bounded_json
from app.domain.access import Forbidden
from app.domain.api_keys import bearer_key
from app.domain.errors import NotFound, OverseerError
from app.domain.rate_limit import RateLimiter, retry_after

log = logging.getLogger("overseer.api")

#: The largest request body, in bytes (5 MB: 1,000 outcomes with long ids and every step fit in a tenth).
MAX_BODY = 5 * 1024 * 1024
_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")


@dataclass
class ApiError(Exception):
    """An answer other than success: HTTP status, a stable ``code`` and a message for people."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


_limiter: RateLimiter | None = None


def limiter() -> RateLimiter:
    """The process's rate limiter, made on first use from ``OVERSEER_API_RATE`` / ``OVERSEER_API_BURST``."""
    global _limiter
    if _limiter is None:
        rate, burst = config.api_rate()
        _limiter = RateLimiter(rate, burst)
    return _limiter


def set_limiter(value: RateLimiter | None) -> None:
    """Replace the rate limiter (tests give one with their own clock)."""
    global _limiter
    _limiter = value


def _authenticate(header: str | None):
    from app.core.db import session_scope
    from app.store.api_keys import authenticate, note_used

    with session_scope() as session:
        caller = authenticate(session, bearer_key(header))
    if caller is not None and caller.stale_use:
        # Best effort, and not waited for: it joins the next group of writes, so a request never
        # waits for SQLite's lock just to say when its key was last used.
        key_id = caller.key_id
        write_groups().submit(lambda session: note_used(session, key_id)).add_done_callback(_log_failed_note)
    return caller


def _log_failed_note(future) -> None:
    exc = future.exception()
    if exc is not None:
        log.warning("a key's last use was not recorded: %s", (str(exc).splitlines() or [type(exc).__name__])[0])


Handler = Callable[[Request, object], Awaitable[tuple[int, dict]]]


def endpoint(methods: dict[str, Handler], *, public: bool = False):
    """A Starlette endpoint that answers the methods in ``methods`` by the API's rules.

    Parameters
    ----------
    methods : dict
        HTTP method to ``async handler(request, caller) -> (status, body)``;
        another method is answered 405 with ``Allow``.
    public : bool
        No key needed (the OpenAPI document).
    """
    allowed = ", ".join(sorted(methods))

    async def respond(request: Request) -> Response:
        request_id = uuid.uuid4().hex
        try:
            handler = methods.get(request.method)
            if handler is None:
                raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed here; use {allowed}",
                               {"Allow": allowed})
            caller = None
            if not public:
                caller = await run_in_threadpool(_authenticate, request.headers.get("authorization"))
                if caller is None:
                    raise ApiError(401, "unauthorized", "send a valid API key as 'Authorization: Bearer <key>' "
                                   "(missing, unknown or revoked)", {"WWW-Authenticate": "Bearer"})
                wait = limiter().take(caller.key_id)
                if wait:
                    raise ApiError(429, "rate_limited", "too many requests for this key; retry after the time in "
                                   "Retry-After", {"Retry-After": str(retry_after(wait))})
            status, body = await handler(request, caller)
            response = JSONResponse(body, status_code=status)
        except ApiError as exc:
            response = JSONResponse({**error_body(exc.code, exc.message), **exc.extra}, status_code=exc.status,
                                    headers=exc.headers)
        except (DatabaseUnusable, PoolTimeout) as exc:
            # No connection free within the pool's wait, or the database cannot be used: a retry may work.
            log.warning("request %s: database unavailable: %s", request_id, str(exc).splitlines()[0])
            response = JSONResponse(error_body("unavailable", "the database is not available; retry after the time "
                                               "in Retry-After (the request changed nothing)"),
                                    status_code=503, headers={"Retry-After": "1"})
        except Forbidden as exc:
            response = JSONResponse(error_body("forbidden", str(exc)), status_code=403)
        except NotFound as exc:
            response = JSONResponse(error_body("not_found", str(exc)), status_code=404)
        except OverseerError as exc:
            response = JSONResponse(error_body("invalid", str(exc)), status_code=422)
        except ClientDisconnect:
            response = Response(status_code=400)
        except DBAPIError as exc:
            from app.core.db import is_write_conflict

            if is_write_conflict(exc) or isinstance(exc, OperationalError):
                log.warning("request %s: database busy or unreachable: %s", request_id, str(exc).splitlines()[0])
                response = JSONResponse(error_body("unavailable", "the database is busy; retry after the time in "
                                                   "Retry-After (the request changed nothing)"),
                                        status_code=503, headers={"Retry-After": "1"})
            else:
                log.exception("request %s failed", request_id)
                response = JSONResponse(error_body("internal", f"unexpected error; quote request id {request_id}"),
                                        status_code=500)
        except Exception:  # noqa: BLE001 - logged with its id, never shown as a traceback
            log.exception("request %s failed", request_id)
            response = JSONResponse(error_body("internal", f"unexpected error; quote request id {request_id}"),
                                    status_code=500)
        response.headers["X-Request-ID"] = request_id
        return response

    return respond


async def json_body(request: Request) -> object:
    """The request's JSON body, read up to :data:`MAX_BODY` bytes.

    Raises
    ------
    ApiError
        413 above the limit (by ``Content-Length`` or as read), 415 when the body is
        not declared or not readable as JSON.
    """
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not _JSON_TYPE.match(declared):
        raise ApiError(415, "unsupported_media_type", "send the body as JSON with 'Content-Type: application/json'")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body is larger than {MAX_BODY // (1024 * 1024)} MB; send fewer outcomes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "too_large", f"the body is larger than {MAX_BODY // (1024 * 1024)} MB; send fewer outcomes")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8")
        # Numbers stay bounded; nesting is left to json.loads, whose RecursionError is refused below:
        # a body's shape is checked item by item anyway, and counting brackets cost more than parsing.
        return bounded_json.loads(text, max_chars=MAX_BODY, max_depth=MAX_BODY)
    except UnicodeDecodeError:
        raise ApiError(415, "not_json", "the body is not UTF-8 JSON") from None
    except bounded_json.JSONLimitError as exc:
        raise ApiError(422, "invalid", f"the body {exc}") from None
    except json.JSONDecodeError as exc:
        raise ApiError(415, "not_json", f"the body is not JSON: {exc.msg} at character {exc.pos + 1}") from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(415, "not_json", f"the body is not JSON: {str(exc)[:200]}") from None


def run_write(work: Callable, *args, weight: int = 1, merge: Merge | None = None) -> Awaitable:
    """Run ``work(session, *args)`` in the process's next group of writes (:mod:`app.api.write_groups`).

    ``weight`` is the number of outcomes the work writes, which bounds a group's size;
    ``merge`` lets it be written together with like requests. The awaitable ends once
    the group committed (then 503 if it kept clashing with other writers).
    """
    return write_groups().run(lambda session: work(session, *args), weight, merge)


def run_read(work: Callable, *args):
    """Run ``work(session, *args)`` in a read-only unit of work on the thread pool."""
    from app.core.db import session_scope

    def read():
        with session_scope() as session:
            return work(session, *args)

    return run_in_threadpool(read)
