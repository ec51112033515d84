"""The benchmark report renderer (bench/report.py): goals in the table, plots drawn as PNG files beside it."""

from __future__ import annotations

from pathlib import Path

from bench import report

RESULTS = {
    "machine": {"date": "2026-11-26 20:00 UTC", "cpu": "Test CPU", "cores": "2", "ram": "1.0 GiB", "os": "Debian",
                "python": "3.11", "postgresql": "15.2", "chromium": "Chromium 156", "commit": "abc123"},
    "benches": {
        "http": {"status": "ok", "at": "2026-11-26T20:00:00Z", "seconds": 12.5, "result": {
            "goals": [
                {"name": "online verify rate (1 process)", "value": 900, "unit": "req/s", "baseline": "crypto.verify in process",
                 "baseline_value": 1700, "ratio": 0.53, "goal": "ratio ≥ 0.5", "met": True},
                {"name": "verify p99 at 16 connections", "value": 81.5, "unit": "ms", "baseline": "", "baseline_value": None,
                 "ratio": None, "goal": "≤ 50 ms", "met": False},
            ],
            "plots": [{"file": "verify_procs.png", "title": "验证 verify against processes", "x": "processes", "y": "req/s",
                       "series": {"verify": [[1, 900], [2, 1500], [4, 1700]], "hello world": [[1, 1900], [2, 3000], [4, 3300]]}}],
            "wrk_connections": 16,
        }},
        "dbsize": {"status": "ok", "at": "2026-11-26T20:01:00Z", "seconds": 40, "result": {"goals": [
            {"name": "PostgreSQL bytes per million passes", "value": 1.2e9, "unit": "B", "baseline": "", "baseline_value": None,
             "ratio": None, "goal": "", "met": None}]}},
        "wire": {"status": "skipped", "reason": "no module bench/wire.py in this checkout"},
        "scan": {"status": "failed", "error": "RuntimeError: boom", "traceback": "..."},
    },
}


def test_the_report_lists_every_goal_and_draws_the_plots(tmp_path: Path) -> None:
    path = report.render(RESULTS, tmp_path)
    text = path.read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| http |") or line.startswith("| dbsize |")]
    assert len(table) == 3
    assert "online verify rate (1 process)" in table[0] and "900 req/s" in table[0] and "0.53" in table[0]
    assert "1,700" in table[0] and "✅ met" in table[0]
    assert "❌ not met" in table[1] and "≤ 50 ms" in table[1]
    assert "informational" in table[2]
    assert "goals: 1 met, 1 not met, 1 informational" in text
    assert "Test CPU" in text and "Chromium 156" in text
    assert "Skipped: no module bench/wire.py" in text and "**Failed**" in text and "RuntimeError: boom" in text
    png = tmp_path / "verify_procs.png"
    assert "![验证 verify against processes](verify_procs.png)" in text
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| wrk_connections | 16 |" in text


def test_a_plot_file_name_cannot_leave_the_report_folder(tmp_path: Path) -> None:
    bad = {"benches": {"x": {"status": "ok", "result": {"plots": [
        {"file": "../../escape.png", "title": "t", "x": "a", "y": "b", "series": {"s": [[1, 2]]}}]}}}}
    report.render(bad, tmp_path / "out")
    assert (tmp_path / "out" / "escape.png").stat().st_size > 0
    assert not (tmp_path / "escape.png").exists()
