"""The OpenAPI 3.1 document of the API, served at ``/api/v1/openapi.json``.

Written by hand beside the endpoints (:mod:`app.api.endpoints`) rather than
generated: it is the contract clients read. ``tests/api/test_openapi.py`` checks it
with ``openapi-spec-validator`` and runs schemathesis against it, so a response
that does not match it fails the tests.
"""

from __future__ import annotations

import copy
import functools

from app.domain.ingest_rows import ITEM_FIELDS, JSONL_REQUIRED_KEYS, MAX_OUTCOME_ID, MAX_SUMMARY, MAX_URL
from app.domain.steps import PERFORMERS, STATUSES, STEPS, VERDICTS

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_REQUEST_ID = {"X-Request-ID": {"description": "This request's id (quote it when asking about a request).",
                                "schema": {"type": "string"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}


def _error(description: str, retry: bool = False) -> dict:
    headers = {**_REQUEST_ID, **(_RETRY_AFTER if retry else {})}
    return {"description": description, "headers": headers,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "headers": dict(_REQUEST_ID), "content": {"application/json": {"schema": schema}}}


_COMMON = {
    "401": _error("Missing, unknown or revoked API key."),
    "404": _error("No such outcome, job or endpoint."),
    "405": _error("Method not allowed."),
    "429": _error("This key is above its rate; retry after Retry-After seconds.", retry=True),
    "500": _error("Unexpected error (never with a traceback); retry with backoff."),
    "503": _error("The database is still busy after retries; retry after Retry-After seconds.", retry=True),
}
_WRITES = {
    "403": _error("A read key cannot write."),
    "413": _error("The body is larger than 5 MB."),
    "415": _error("The body is not JSON."),
    "422": _error("The body is invalid."),
}
_TIME = {"type": ["string", "null"], "description": "ISO 8601; without an offset, UTC."}
_NULLABLE_TEXT = {"type": ["string", "null"]}
# The schema of each import column an item may carry; a column added to the import's table
# (app.domain.ingest_rows: REQUIRED_COLUMNS, OPTIONAL_COLUMNS) without an entry here is documented as text.
_FIELD_SCHEMAS = {
    "outcome_id": {"type": ["string", "integer"], "description": f"At most {MAX_OUTCOME_ID} characters."},
    "job": {"type": "string", "description": "The job's slug."},
    "started_at": {"type": "string", "description": "ISO 8601; without an offset, UTC."},
    "completed_at": _TIME,
    "reviewed_at": _TIME,
    "status": {"type": "string", "enum": list(STATUSES)},
    "verdict": {"type": ["string", "null"], "enum": [*VERDICTS, "", None]},
    "handoff_step": {"type": ["string", "null"], "enum": [*STEPS, "", None]},
    "summary": {"type": ["string", "null"], "maxLength": MAX_SUMMARY,
                "description": "What the AI did or answered, plain text; empty keeps the stored one."},
    "url": {"type": ["string", "null"], "maxLength": MAX_URL,
            "description": "An http or https link to the source record (the ticket); empty keeps the stored one."},
    **{step: {"type": ["string", "null"], "enum": [*PERFORMERS, "", None]} for step in STEPS},
}
_OUTCOME_ITEM = {
    "type": "object",
    "description": "One outcome, with the fields of an import row (README \"Data in\"); other keys are ignored.",
    "required": list(JSONL_REQUIRED_KEYS),
    "properties": {field: _FIELD_SCHEMAS.get(field, _NULLABLE_TEXT) for field in ITEM_FIELDS},
}
_RESULT = {
    "type": "object",
    "required": ["index", "outcome_id", "status", "errors"],
    "properties": {
        "index": {"type": "integer"},
        "outcome_id": _NULLABLE_TEXT,
        "status": {"type": "string", "enum": ["inserted", "updated", "unchanged", "invalid"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": _NULLABLE_TEXT, "reason": {"type": "string"}},
            },
        },
    },
}
_COUNTS = {name: {"type": "integer", "minimum": 0} for name in ("inserted", "updated", "unchanged", "invalid")}
_BATCH = {
    "type": "object",
    "required": ["results", *_COUNTS],
    "properties": {"results": {"type": "array", "items": _RESULT}, **_COUNTS},
}
_MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
_REVIEW = {
    "type": "object",
    "required": ["verdict", "reviewer", "comment", "reviewed_at"],
    "properties": {
        "verdict": {"type": "string", "enum": ["correct", "incorrect"]},
        "reviewer": {"type": "string"},
        "comment": {"type": "string"},
        "reviewed_at": {"type": "string"},
        "source": {"type": "string", "enum": ["app", "import"]},
        "job": {"type": "string"},
        "outcome_id": {"type": "string"},
    },
}
_OUTCOME = {
    "type": "object",
    "required": ["job", "outcome_id", "started_at", "completed_at", "status", "verdict", "reviewed_at",
                 "handoff_step", "summary", "url", "steps", "reviews"],
    "properties": {
        "job": {"type": "string"},
        "outcome_id": {"type": "string"},
        "started_at": {"type": "string"},
        "completed_at": _NULLABLE_TEXT,
        "status": {"type": "string", "enum": list(STATUSES)},
        "verdict": {"type": "string", "enum": list(VERDICTS)},
        "reviewed_at": _NULLABLE_TEXT,
        "handoff_step": _NULLABLE_TEXT,
        "summary": _NULLABLE_TEXT,
        "url": _NULLABLE_TEXT,
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["step", "performer", "handed_off", "coverage", "description"],
                "properties": {
                    "step": {"type": "string", "enum": list(STEPS)},
                    "performer": {"type": ["string", "null"], "enum": [*PERFORMERS, None]},
                    "handed_off": {"type": "boolean"},
                    "coverage": _NULLABLE_TEXT,
                    "description": {"type": "string"},
                },
            },
        },
        "reviews": {"type": "array", "items": _REVIEW},
    },
}
_USAGE = {
    "type": "object",
    "required": ["month", "currency", "free_used", "free_remaining", "billable_outcomes", "bill_so_far",
                 "projection", "allowance_runs_out", "alerts"],
    "properties": {
        "month": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$"},
        "currency": {"type": "string"},
        "free_used": {"type": "integer"},
        "free_remaining": {"type": "integer"},
        "billable_outcomes": {"type": "integer"},
        "bill_so_far": _MONEY,
        "projection": {
            "type": ["object", "null"],
            "required": ["outcomes", "total", "low", "high"],
            "properties": {"outcomes": {"type": "integer"}, "total": _MONEY, "low": _MONEY, "high": _MONEY},
        },
        "allowance_runs_out": {"type": ["string", "null"], "description": "ISO date, or null."},
        "alerts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code", "message"],
                "properties": {"severity": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_INVOICE = {
    "type": "object",
    "description": "The JSON of `overseer invoice --json`.",
    "required": ["currency", "lines", "total", "free_used", "free_remaining"],
    "properties": {
        "currency": {"type": "string"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["description", "quantity", "unit_price", "amount"],
                "properties": {
                    "description": {"type": "string"},
                    "quantity": {"type": "integer"},
                    "unit_price": {"type": "string"},
                    "amount": _MONEY,
                },
            },
        },
        "total": _MONEY,
        "free_used": {"type": "integer"},
        "free_remaining": {"type": "integer"},
        "billable": {"type": "integer"},
        "status": {"type": "string", "enum": ["draft", "final"]},
        "number": _NULLABLE_TEXT,
        "closed_at": _NULLABLE_TEXT,
        "late": {"type": "array"},
        "projected": {"type": "object"},
    },
}
_PATH_TEXT = {"type": "string", "minLength": 1}


def _outcome_params() -> list[dict]:
    return [
        {"name": "job", "in": "path", "required": True, "schema": _PATH_TEXT, "description": "The job's slug."},
        {"name": "outcome_id", "in": "path", "required": True, "schema": _PATH_TEXT},
    ]


@functools.cache
def _document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Overseer API",
            "version": "1.0.0",
            "description": (
                "Send outcomes as they happen and read the allowance and the bill. Every request needs "
                "'Authorization: Bearer <key>' (a key made on the API keys page or with 'overseer key create'). "
                "Writes are idempotent: retry 429, 503 and other 5xx with backoff, never 4xx."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/outcomes": {
                "post": {
                    "operationId": "postOutcomes",
                    "summary": "Upsert 1 to 1,000 outcomes by (job, outcome_id)",
                    "parameters": [{
                        "name": "atomic", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["true", "false"]},
                        "description": "true: any invalid item rejects the whole batch (422, with the results: "
                                       "what each valid item would have been) and nothing is written.",
                    }],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["outcomes"],
                            "properties": {"outcomes": {"type": "array", "minItems": 1, "maxItems": 1000,
                                                        "items": _OUTCOME_ITEM}},
                        }}},
                    },
                    "responses": {
                        "200": _ok("Each item's fate, and the counts.", {"$ref": "#/components/schemas/Batch"}),
                        **_COMMON,
                        **_WRITES,
                    },
                },
            },
            "/api/v1/outcomes/{job}/{outcome_id}/reviews": {
                "post": {
                    "operationId": "postReview",
                    "summary": "Review an outcome, by the rules of a review made on the page",
                    "parameters": _outcome_params(),
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["verdict", "reviewer"],
                            "properties": {
                                "verdict": {"type": "string", "enum": ["correct", "incorrect"]},
                                "reviewer": {"type": "string", "minLength": 1, "maxLength": 200},
                                "comment": {"type": "string", "maxLength": 5000},
                                "reviewed_at": {"type": "string", "description": "ISO 8601; default now."},
                            },
                        }}},
                    },
                    "responses": {"201": _ok("The review recorded.", _REVIEW), **_COMMON, **_WRITES},
                },
            },
            "/api/v1/outcomes/{job}/{outcome_id}": {
                "get": {
                    "operationId": "getOutcome",
                    "summary": "An outcome with its step trail and its reviews",
                    "parameters": _outcome_params(),
                    "responses": {"200": _ok("The outcome.", _OUTCOME), **_COMMON},
                },
            },
            "/api/v1/usage": {
                "get": {
                    "operationId": "getUsage",
                    "summary": "The current month's allowance, bill so far, projection and alerts",
                    "responses": {"200": _ok("The Overview's figures for the current month.", _USAGE), **_COMMON},
                },
            },
            "/api/v1/invoices/{month}": {
                "get": {
                    "operationId": "getInvoice",
                    "summary": "A month's invoice (draft or final)",
                    "parameters": [{"name": "month", "in": "path", "required": True,
                                    "schema": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$"}}],
                    "responses": {
                        "200": _ok("The invoice, as `overseer invoice --json` prints it.", _INVOICE),
                        "422": _error("Not a month."),
                        **_COMMON,
                    },
                },
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenAPI",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _ok("OpenAPI 3.1.", {"type": "object"}), "405": _COMMON["405"]},
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, "Batch": _BATCH},
        },
    }


def document() -> dict:
    """The OpenAPI document (a copy: callers may change it)."""
    return copy.deepcopy(_document())
