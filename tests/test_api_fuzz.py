"""Fuzzing the API from its own OpenAPI schema (schemathesis): for every operation, generated
requests (valid and invalid) never get a 5xx, and every response matches the schema.

Bounded: a fixed number of examples per operation and role, in-process through the WSGI app.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from households.identity import api_token_issue

EXAMPLES_PER_OPERATION = 30


def _load_schema():
    from config.wsgi import application

    # the schema view reads no table, so loading it at collection needs no database
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


schema = _load_schema()


ROLES = ("resident", "operator", "worker", "supplier", None)  # None: no credentials at all


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app closes the database connection after each request (request_finished); inside
    a test's transaction that would close the test's own connection. Django's test client does
    the same as this: keep it open while the test runs."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(shop, city):
    return {role: api_token_issue(user=getattr(city.users, role))[1] for role in ROLES if role}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error_and_every_response_matches_the_schema(case, tokens):
    for role in ROLES:
        headers = {"Authorization": f"Token {tokens[role]}"} if role else {}
        # The in-process (WSGI) transport hands back the body as sent, and does not undo the gzip
        # a real HTTP client would: ask for it uncompressed (compression: tests/test_polish.py).
        headers["Accept-Encoding"] = "identity"
        if case.method.upper() == "POST":
            headers["Idempotency-Key"] = f"fuzz-{role}"
        response = case.call(headers=headers)
        case.validate_response(
            response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
        )
