"""The verify pass cache: bounded in age and size, and emptied when the lists change."""

from __future__ import annotations

from typing import Any, cast

import pytest

from server.domain.verify import services
from server.domain.verify.services import PassCache


class Lists:
    def __init__(self, key: tuple[str, str]) -> None:
        self.key = key


def _row(name: str) -> Any:
    return (cast(Any, name), "agency")


def test_a_row_answers_within_its_age_only(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: now[0])
    cache, lists = PassCache(max_age=2.0), cast(Any, Lists(("t1", "s1")))
    assert cache.get(7, lists) == (False, None)
    cache.put(7, lists, _row("p7"), read_at=now[0])
    assert cache.get(7, lists) == (True, _row("p7"))
    now[0] += 1.9
    assert cache.get(7, lists)[0] is True
    now[0] += 0.2
    assert cache.get(7, lists) == (False, None)


def test_unknown_passes_are_remembered_too(monkeypatch: pytest.MonkeyPatch) -> None:
    cache, lists = PassCache(), cast(Any, Lists(("t", "s")))
    cache.put(8, lists, None, read_at=services.time.monotonic())
    assert cache.get(8, lists) == (True, None)


def test_new_lists_empty_the_cache() -> None:
    cache = PassCache(max_age=60)
    old, new = cast(Any, Lists(("t1", "s1"))), cast(Any, Lists(("t1", "s2")))
    cache.put(7, old, _row("p7"), read_at=services.time.monotonic())
    assert cache.get(7, new) == (False, None)
    assert cache.get(7, old) == (False, None)  # emptied, not kept aside


def test_least_recently_used_go_first() -> None:
    cache, lists = PassCache(max_age=60, size=2), cast(Any, Lists(("t", "s")))
    t = services.time.monotonic()
    cache.put(1, lists, _row("a"), t)
    cache.put(2, lists, _row("b"), t)
    assert cache.get(1, lists)[0]  # 1 is now the most recent
    cache.put(3, lists, _row("c"), t)
    assert [cache.get(n, lists)[0] for n in (1, 2, 3)] == [True, False, True]
