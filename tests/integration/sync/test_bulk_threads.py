"""A big batch's signatures are checked in several worker threads side by side, with the same answers in the same
order as one thread would give (sync.push.in_threads)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from tests.records import Device, uuid7

push_module = sys.modules["sync.push"]  # `sync.push` the attribute is the function


def test_a_batch_is_cut_into_a_part_a_core_never_under_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    sizes = lambda n: [len(p) for p in push_module.chunks(list(range(n)))]  # noqa: E731
    assert sizes(100) == [25, 25, 25, 25]
    assert sizes(40) == [20, 20]
    assert sizes(31) == [31] and sizes(0) == []
    assert [x for p in push_module.chunks(list(range(101))) for x in p] == list(range(101))


async def test_the_parts_run_side_by_side_and_answer_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    met = threading.Barrier(4, timeout=10)  # broken unless all four parts are in their threads at once

    def double(part: list[int]) -> list[int]:
        met.wait()
        return [2 * x for x in part]

    assert await push_module.in_threads(double, list(range(100))) == [2 * x for x in range(100)]


async def test_receipts_of_a_big_batch_keep_their_order(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """64 envelopes checked in four threads: the badly signed ones (3, 20, 47) and the rest answered at their index."""
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    phone, stranger = Device(), Device()
    records = [phone.record("nope", n=i) for i in range(64)]  # signed, of no known kind: kept, refused as not valid
    envelopes = [(stranger if i in (3, 20, 47) else phone).envelope(r) for i, r in enumerate(records)]
    envelopes[50] = {**envelopes[50], "body": envelopes[50]["body"].replace(records[50]["id"], uuid7())}
    r = await phone.push(client, envelopes, sign=False)
    assert r.status_code == 200, r.text
    receipts = r.json()["receipts"]
    assert [x["index"] for x in receipts] == list(range(64))
    unsigned = [i for i, x in enumerate(receipts) if "signature" in x["reason_en"]]
    assert unsigned == [3, 20, 47, 50], receipts
    assert all(x["id"] == records[i]["id"] for i, x in enumerate(receipts) if i not in (3, 20, 47, 50))
