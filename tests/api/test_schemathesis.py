"""Fuzzing the whole OpenAPI document in-process (RELIABILITY row 17): 0 server errors,
status codes and response schemas as documented, anonymous calls refused.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation

from tests.conftest import PASSWORD, AuthActions

FUZZ = settings(
    max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
PUBLIC = {
    ("GET", "/api/invites/preview/{token}"),
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/password-reset"),
    ("POST", "/api/auth/password-reset/confirm"),
    ("POST", "/api/auth/verify-email/confirm"),
}
# Rules no JSON Schema can state, so schema-valid data may still be refused (422, 410)
# there: one emoji of Unicode's recommended set (the document gives the shape, not the
# set), a status that ends within a year from now, and a cursor that exists (a
# well-formed one may be unknown, or expired: 410), a reset token that exists, and the
# right password.
BEYOND_SCHEMA = {
    "/api/messages/{message_id}/reactions",
    "/api/users/me",
    "/api/sync",
    "/api/threads",
    "/api/auth/password",
    "/api/auth/password-reset/confirm",
    "/api/auth/verify-email/confirm",
}


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    return operations


def _only_our_header_was_negative(case, response) -> bool:
    """A negative case whose invalid header we replaced with our own token, and whose
    query, as sent, names only documented parameters (the client leaves out an extra
    parameter generated as None): the request that went out was not the negative one."""
    meta = case.meta
    if meta is None:
        return False
    negative = {
        loc for loc, info in meta.components.items() if info.mode == GenerationMode.NEGATIVE
    }
    if ParameterLocation.HEADER not in negative or not negative <= {
        ParameterLocation.HEADER,
        ParameterLocation.QUERY,
    }:
        return False
    documented = {p.name for p in case.operation.query}
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    return set(sent) <= documented


def _fuzz(operation, mode, check, examples=None):
    strategy = operation.as_strategy(generation_mode=mode)
    test = given(case=strategy)(check)
    (settings(FUZZ, max_examples=examples) if examples else FUZZ)(test)()


@pytest.mark.timeout(300)  # every operation twice: 80-120 s on a loaded CI machine
def test_every_operation_conforms_to_the_document(app, client):
    auth = AuthActions(client)
    session = auth.register("fuzzer")
    login = {"username": "fuzzer", "password": PASSWORD}

    def check(case):
        token = session["accessToken"]
        if case.operation.path == "/api/auth/logout":  # would end the shared session
            token = client.post("/api/auth/login", json=login).get_json()["accessToken"]
        elif case.operation.path == "/api/auth/refresh":
            token = session["refreshToken"]
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(headers=headers)
        if response.status_code == 413:  # an oversized body: refused before validation
            assert response.json()["error"]["code"] == "payload_too_large"
            return
        beyond = case.operation.path in BEYOND_SCHEMA and response.status_code in (410, 422)
        excluded = [positive_data_acceptance] if beyond else []
        if _only_our_header_was_negative(case, response):
            excluded.append(negative_data_rejection)
        case.validate_response(response, headers=headers, excluded_checks=excluded or None)

    for operation in _operations(app):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, check)


def test_anonymous_calls_are_refused(app):
    def check(case):
        response = case.call()
        key = (case.operation.method.upper(), case.operation.path)
        if key in PUBLIC:
            assert response.status_code < 500, (key, response.text)
        else:
            assert response.status_code in (401, 404, 405), (key, response.text)

    for operation in _operations(app):
        _fuzz(operation, GenerationMode.POSITIVE, check, examples=3)
