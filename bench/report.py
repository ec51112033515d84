"""The benchmark report: bench/out/REPORT.md and its PNG plots, drawn from bench/out/results.json.

`python -m bench.report [RESULTS.json [OUT_DIR]]` redraws the report without running anything again.

results.json holds `machine` (what ran it) and `benches`: per bench module `{status: ok | skipped | failed, at,
seconds, result}`, where `result` is what the module's `run()` returned. A result may carry `goals` (each
`{name, value, unit, baseline, baseline_value, ratio, goal, met}`) and `plots` (each `{file, title, x, y,
series: {label: [[x, y], ...]}}`); everything else in it is listed as it is under the bench's heading.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"
RESULTS = OUT / "results.json"
REPORT = "REPORT.md"


# ---- the machine -------------------------------------------------------------------------------------------------

def _first_line(cmd: list[str]) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr).strip() else "not found"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))} (Linux {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def _postgresql() -> str:
    """The server's version when one answers on 127.0.0.1:5432 (as the benches use it), else the client's."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return "no server on 127.0.0.1:5432"
    try:
        import asyncio

        import asyncpg

        async def version() -> str:
            conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="test", timeout=5)
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()

        return asyncio.run(version())
    except Exception as e:
        return f"answers, version unknown ({type(e).__name__})"


def describe_machine() -> dict[str, str]:
    """What ran the benchmarks: CPU, cores, RAM, OS, Python, PostgreSQL, Chromium, commit and date."""
    root = Path(__file__).resolve().parent.parent
    commit = _first_line(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])
    dirty = _first_line(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": _ram(),
        "os": _os(),
        "python": platform.python_version(),
        "postgresql": _postgresql(),
        "chromium": _first_line(["/usr/bin/chromium", "--version"]),
        "commit": commit + (" (with local changes)" if dirty not in ("", "not found") else ""),
    }


# ---- figures -----------------------------------------------------------------------------------------------------

def _num(v: Any) -> str:
    """A figure as a person reads it: thousands separated, at most three significant decimals."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 100):
        return f"{int(v):,}"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:.2f}".rstrip("0").rstrip(".")
        return f"{v:.3g}"
    return str(v)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


MET = {True: "✅ met", False: "❌ not met", None: "ℹ️ informational"}


def goals_of(results: dict) -> list[tuple[str, dict]]:
    """Every goal of every bench that ran, in the benches' order: (bench name, goal)."""
    out = []
    for name, entry in results.get("benches", {}).items():
        result = entry.get("result")
        if entry.get("status") == "ok" and isinstance(result, dict):
            out += [(name, g) for g in result.get("goals", []) if isinstance(g, dict)]
    return out


def summary(results: dict) -> str:
    """One paragraph: how many goals are met, not met, informational; benches skipped or failed."""
    goals = goals_of(results)
    met = sum(g.get("met") is True for _, g in goals)
    missed = [g.get("name", "?") for _, g in goals if g.get("met") is False]
    info = sum(g.get("met") is None for _, g in goals)
    benches = results.get("benches", {})
    skipped = [n for n, b in benches.items() if b.get("status") == "skipped"]
    failed = [n for n, b in benches.items() if b.get("status") == "failed"]
    lines = [f"goals: {met} met, {len(missed)} not met, {info} informational"]
    if missed:
        lines.append("not met: " + "; ".join(missed))
    if skipped:
        lines.append("skipped: " + ", ".join(skipped))
    if failed:
        lines.append("FAILED: " + ", ".join(failed))
    return "\n".join(lines)


def _goal_table(results: dict) -> list[str]:
    goals = goals_of(results)
    if not goals:
        return ["No bench reported goals in this run.", ""]
    lines = ["| bench | what | figure | baseline | baseline figure | ratio | goal | met |",
             "|---|---|---:|---|---:|---:|---|---|"]
    for name, g in goals:
        unit = g.get("unit", "")
        value = f"{_num(g.get('value'))} {unit}".strip()
        base = g.get("baseline_value")
        base_text = "–" if base is None else f"{_num(base)} {g.get('baseline_unit', unit)}".strip()
        lines.append("| " + " | ".join(_cell(x) for x in (
            name, g.get("name", "?"), value, g.get("baseline") or "–", base_text, _num(g.get("ratio")),
            g.get("goal") or "–", MET.get(g.get("met"), "?"))) + " |")
    return [*lines, ""]


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list) and len(value) > 8:
        return [(prefix, f"[{len(value)} items]")]
    return [(prefix, value)]


def _other_figures(result: dict) -> list[str]:
    rest = {k: v for k, v in result.items() if k not in ("goals", "plots")}
    rows = _flatten(rest)
    if not rows:
        return []
    return ["| figure | value |", "|---|---:|", *[f"| {_cell(k)} | {_cell(_num(v) if not isinstance(v, list) else json.dumps(v, ensure_ascii=False))} |"
                                                for k, v in rows], ""]


# ---- plots -------------------------------------------------------------------------------------------------------

def _safe_file(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(name)).name) or "plot"
    return base if base.endswith(".png") else base + ".png"


def draw(plot: dict, out: Path) -> Path:
    """One plot entry as a PNG in `out`: a line with markers per series, the axes named, zero on the y axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "Noto Serif CJK SC", "DejaVu Sans"]  # zh-CN labels draw
    plt.rcParams["axes.unicode_minus"] = False
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    try:
        for label, points in (plot.get("series") or {}).items():
            pts = sorted((float(x), float(y)) for x, y in points)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=str(label))
        ax.set_title(str(plot.get("title", "")))
        ax.set_xlabel(str(plot.get("x", "")))
        ax.set_ylabel(str(plot.get("y", "")))
        ax.set_ylim(bottom=0)
        xs = sorted({float(x) for pts in (plot.get("series") or {}).values() for x, _ in pts})
        if xs and len(xs) <= 8 and all(x.is_integer() for x in xs):
            ax.set_xticks(xs)
        ax.grid(True, alpha=0.3)
        if plot.get("series"):
            ax.legend()
        fig.tight_layout()
        path = out / _safe_file(plot.get("file", "plot.png"))
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path


# ---- the report --------------------------------------------------------------------------------------------------

def render(results: dict, out: Path) -> Path:
    """Write `out`/REPORT.md and a PNG per plot entry; answers the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    m = results.get("machine", {})
    lines = ["# DoorPass benchmark report", "",
             "Every figure beside a baseline measured in the same run, and their ratio. Written by `make bench` "
             "(`python -m bench`) from `results.json` beside this file; `python -m bench.report` redraws it.", "",
             "## Machine", "", "| | |", "|---|---|"]
    for key, label in (("date", "date"), ("cpu", "CPU"), ("cores", "cores"), ("ram", "RAM"), ("os", "OS"),
                       ("python", "Python"), ("postgresql", "PostgreSQL"), ("chromium", "Chromium"), ("commit", "commit")):
        lines.append(f"| {label} | {_cell(m.get(key, 'unknown'))} |")
    lines += ["", "## Goals", "", *(f"{s}  " for s in summary(results).splitlines()), "", *_goal_table(results)]
    plots_failed: list[str] = []
    for name, entry in results.get("benches", {}).items():
        status = entry.get("status")
        lines += [f"## {name}", ""]
        if status == "skipped":
            lines += [f"Skipped: {entry.get('reason', '')}", ""]
            continue
        if status == "failed":
            lines += [f"**Failed** ({entry.get('at', '')}): `{_cell(entry.get('error', ''))}` (traceback in results.json)", ""]
            continue
        lines += [f"Ran {entry.get('at', '')} in {_num(entry.get('seconds'))} s.", ""]
        result = entry.get("result")
        if not isinstance(result, dict):
            lines += ["```", json.dumps(result, indent=2, ensure_ascii=False), "```", ""]
            continue
        for plot in result.get("plots", []):
            try:
                path = draw(plot, out)
            except Exception as e:  # a bad plot entry must not lose the report
                plots_failed.append(f"{name}: {plot.get('file')}: {type(e).__name__}: {e}")
                lines += [f"(plot {plot.get('file')} could not be drawn: {type(e).__name__}: {e})", ""]
                continue
            lines += [f"![{_cell(plot.get('title', path.name))}]({path.name})", ""]
        lines += _other_figures(result)
    if plots_failed:
        print("plots not drawn:\n" + "\n".join(plots_failed), file=sys.stderr)
    path = out / REPORT
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else RESULTS
    out = Path(argv[1]) if len(argv) > 1 else source.parent
    if not source.exists():
        print(f"no {source}: run `make bench` (python -m bench) first", file=sys.stderr)
        return 2
    results = json.loads(source.read_text(encoding="utf-8"))
    path = render(results, out)
    print(summary(results))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
