"""A short soak (bench/soak.py, `make soak` runs the long one): two server processes on one PostgreSQL, phones
verifying, enrolling, pushing and pulling, one process killed and restarted, then the other, and the database
connections dropped twice. Nothing lost, nothing doubled, no 5xx beyond requests in flight at a fault."""

from __future__ import annotations

import pytest

from tests.conftest import PG


@pytest.mark.skipif(not PG, reason="the soak needs PostgreSQL on 127.0.0.1:5432 (trust auth, database test)")
def test_a_short_soak_loses_nothing() -> None:
    from bench.soak import soak

    summary = soak(35, households=12, threads=3)
    assert summary["failures"] == [], "\n".join(summary["failures"])
    assert len(summary["kills"]) == 2 and len(summary["connection_drops"]) == 2  # the faults did happen
    assert summary["no_answer"] > 0  # phones met the killed processes (refused connections), and retried
    assert summary["records_made"] > 200 and summary["records_by_receipt"].get("applied", 0) > 0
    assert summary["counts"].get("phones enrolled", 0) > 0 and summary["counts"].get("verify valid", 0) > 0
