"""bench/scan.py's pure parts: the summary of per-frame times, the frames it verifies, and the report's goal rows."""

from __future__ import annotations

import pytest

from bench.scan import FRAMES, RATES, frames_of, goals, summarise


def test_summary_median_and_nearest_rank_p95() -> None:
    ms = [float(x) for x in range(1, 41)]  # 1..40: p95 is the 38th value (ceil(0.95 * 40))
    s = summarise(list(reversed(ms)))
    assert s == {"n": 40, "median_ms": 20.5, "p95_ms": 38.0, "min_ms": 1.0, "max_ms": 40.0}
    assert summarise([7.04])["p95_ms"] == 7.0  # one sample: itself
    assert summarise([1.0, 100.0])["p95_ms"] == 100.0
    with pytest.raises(ValueError):
        summarise([])


class _Phone:
    """Just enough of tests.served.Phone: a frame's text names the time it was made at."""

    def live(self, at: int) -> str:
        return f"frame-at-{at}"


def test_frames_are_distinct_and_never_before_now() -> None:
    frames = frames_of(_Phone(), 1_700_000_000, FRAMES)  # type: ignore[arg-type]
    assert FRAMES >= 30 and len(frames) == FRAMES
    assert len({text for text, _ in frames}) == FRAMES  # no frame verified twice
    assert all(at >= 1_700_000_000 for _, at in frames)
    assert len({at // 30 for _, at in frames}) == FRAMES  # each in a step of its own


def _result(app1: float, v1: float, app4: float, v4: float, zx1: float, zx4: float, tap4: float) -> dict:
    def cond(app: float, v: float, zx: float) -> dict:
        return {"verdict_in_app": {"n": 30, "median_ms": app / 2, "p95_ms": app},
                "verdict_per_frame": {"n": 39, "median_ms": v / 2, "p95_ms": v}, "baseline_zxing_wasm_alone_ms": zx,
                "tap_to_verdict_ms": tap4}
    return {"cpu_1x": cond(app1, v1, zx1), "cpu_4x": cond(app4, v4, zx4)}


def test_goal_rows_judge_p95_against_a_second_and_give_the_ratio_to_zxing() -> None:
    rows = goals(_result(app1=40.0, v1=10.0, app4=1000.0, v4=999.9, zx1=20.0, zx4=50.0, tap4=450.0))
    assert len(rows) == 2 * len(RATES) + 1
    app1, v1, app4, v4, tap = rows
    assert app1["value"] == 40.0 and app1["met"] is True and app1["ratio"] == 2.0 and app1["baseline_value"] == 20.0
    assert "painted" in app1["name"] and "1x" in app1["name"] and "p95 of 30" in app1["name"]
    assert v1["value"] == 10.0 and v1["ratio"] == 0.5 and "alone" in v1["name"]
    assert app4["value"] == 1000.0 and app4["met"] is False and app4["ratio"] == 20.0  # "under a second": 1 s is not
    assert v4["met"] is True and "4x" in v4["name"] and v4["goal"] == "< 1,000 ms"
    assert tap["value"] == 450.0 and tap["met"] is True and tap["goal"] == "<= 500 ms"
    assert goals(_result(app1=1, v1=1, app4=1, v4=1, zx1=20.0, zx4=0.0, tap4=500.0))[3]["ratio"] is None
    assert goals(_result(app1=1, v1=1, app4=1, v4=1, zx1=20.0, zx4=60.0, tap4=500.0))[4]["met"] is True
    assert goals(_result(app1=1, v1=1, app4=1, v4=1, zx1=20.0, zx4=60.0, tap4=501.0))[4]["met"] is False
    assert goals({}) == []
