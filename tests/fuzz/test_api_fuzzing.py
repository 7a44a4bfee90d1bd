"""API fuzzing: schemathesis generates requests from /api/v1/openapi.json (public and admin
API) and checks that none gets a 5xx and every response matches the document.

Bounded: a few dozen examples per operation, on SQLite and PostgreSQL. The operations are
driven through hypothesis directly (schemathesis's fixture loader does not run on pytest 9).
"""

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmp_server.extensions import db
from cmp_server.services import staff, tokens

EXAMPLES_PER_OPERATION = 15
# No 5xx, and every answer as documented. (Whether the document is as strict as the
# validation — schemathesis's positive/negative data checks — is not the question here.)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


# argon2id at the smallest cost the library accepts, for the accounts made here (the admin's,
# and any a generated request makes): what a password costs to guess is not the question, and
# at the deployment's cost one hash took longer than many generated requests.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def fuzz_target(app, make_site, monkeypatch):
    """The loaded schema, a real published site (half the cases aim at it) and an admin
    token for the admin API."""
    monkeypatch.setattr(staff, "hasher", FAST_HASHER)
    site = make_site()
    user = staff.create_user("fuzz@accord.test", "admin", "a long enough password")
    token = tokens.create_token(user, "fuzzing")[1]
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return schema, site.site_key, token


def test_every_operation_survives_generated_requests(fuzz_target):
    schema, site_key, token = fuzz_target
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy(), aim=st.booleans())
        def check(case, aim):
            if aim and "site_key" in (case.path_parameters or {}):
                case.path_parameters = {**case.path_parameters, "site_key": site_key}
            if case.path.startswith("/api/v1/admin"):
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            case.call_and_validate(checks=CHECKS)

        check()
