"""The OpenAPI document: valid OpenAPI 3.1, and every answer of the API matches it (schemathesis).

schemathesis generates requests from the document itself (bounded: a few dozen examples an
operation, well under a minute) and sends them with a write key to the routes in process;
each answer must not be a 5xx and must match the document (status, content type, headers,
body schema).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.checks import not_a_server_error
from starlette.applications import Starlette

from app.api import openapi
from app.api.endpoints import ROUTES

APP = Starlette(routes=ROUTES)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def test_the_document_is_valid_openapi_3_1():
    document = openapi.document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_served_document_is_the_module_s(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi.document()


@pytest.fixture
def write_headers(keys, session):
    # Some outcomes to find, so that GETs of known outcomes answer 200 too.
    from starlette.testclient import TestClient

    from tests.api.conftest import item

    with TestClient(APP) as c:
        c.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": [item("0"), item("T-1")]})
    return keys.write_headers


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_answer_matches_the_document(case, write_headers):
    case.call_and_validate(headers=write_headers, checks=CHECKS)
