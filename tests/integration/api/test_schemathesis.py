"""schemathesis against our own OpenAPI, in process: no operation answers a server error, or a body, status or
content type its schema does not declare, or accepts what the schema says is invalid. Staff routes answer 401
here; that answer must match the schema too."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from server.db.migrate import upgrade
from server.settings import Settings
from tests.integration.conftest import platform_keys

# A body over its route's size limit (e.g. a generated QR text of 20 KB for /api/verify) is refused before it is
# parsed, with 413: that is a rejection of invalid data too.
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": [
    "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]}}})

EXAMPLES = 15
"""Per operation and mode: the whole module stays well under a minute."""
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance,
          negative_data_rejection]


@pytest.fixture(scope="module")
def api_schema() -> Iterator[schemathesis.BaseSchema]:
    """Our schema, served by the app on a migrated SQLite database of its own (one for the whole module)."""
    with tempfile.TemporaryDirectory(prefix="doorpass-schemathesis-") as tmp:
        var = Path(tmp)
        s = Settings(database_url=f"sqlite+aiosqlite:///{var / 'doorpass.db'}", var_dir=var, pwa_dist=var / "no-dist")
        upgrade(s.database_url)
        asyncio.run(platform_keys(s))
        yield schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(s), config=CONFIG)


def run_operation(operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    check()


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_every_operation_answers_as_its_schema_says(api_schema: schemathesis.BaseSchema, mode) -> None:  # type: ignore[no-untyped-def]
    # The schemathesis pytest plugin's `parametrize` does not run under pytest 9 (it reads `node._nodeid`),
    # so each operation gets its own Hypothesis run here, and every failure is reported, not just the first.
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        try:
            run_operation(operation, mode)
        except Unsatisfiable:  # nothing to make invalid: the operation takes no input
            assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
        except Exception as e:  # collected: one report for every operation that fails
            failures.append(f"{operation.label}: {e}")
    assert not failures, "\n\n".join(failures)
