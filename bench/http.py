"""Online verify and the two lists over HTTP, with wrk, against baselines measured in the same run.

One server process as `python -m server serve` starts it (SQLite, rate limits off as in every bench: a client at
thousands of requests a second from one address is what the limits refuse), loaded by
`wrk -t1 -c16 -d10s --latency` (one wrk thread leaves the other core to the server):

- `POST /api/verify` with a valid live frame, against `crypto.verify` of the same kind of frame in process;
- `GET /api/trust`, `GET /api/status` (full answers, gzipped as a browser asks) and a revalidation of the status
  list (`If-None-Match` → 304), against a hello-world Litestar app on uvicorn from the same venv;
- `POST /api/verify` at 1, 2 and 4 server processes on PostgreSQL (`serve --workers N`).

A live frame is valid for the rest of its 30 s step and the next one (STEP_TOLERANCE), so one frame made just before
a run of at most 25 s stays valid through it; each run checks that the frame still reads `valid` right after it
(and the run is refused when the frame's step is about to end). Without wrk (and no way to install it) the HTTP
figures are skipped with a message; the in-process baseline still runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.sync_push import _pg_answers, _pg_db, _pg_drop
from tests.served import Phone, Served, free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", "10"))
CONNECTIONS = 16
PROCESSES = (1, 2, 4)
ROUNDS = 2
"""Verify and its two baselines each run this many times, interleaved, and each keeps its best round: other jobs on
a shared 2-core machine only ever slow a round down, and both sides get the same treatment."""


def hello_app():  # litestar is imported only when the baseline runs
    """The baseline: a Litestar app whose one handler returns a constant dict (`uvicorn --factory`)."""
    from litestar import Litestar, get

    @get("/")
    async def hello() -> dict:
        return {"hello": "world"}

    return Litestar([hello], debug=False, logging_config=None)


def ensure_wrk() -> str | None:
    """wrk's path, installing Debian's package when it is missing and we may; None (and a message) otherwise."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("bench http: wrk missing, installing it with apt-get", file=sys.stderr, flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, timeout=300, check=False)
        found = shutil.which("wrk")
    if not found:
        print("bench http: wrk is not installed and could not be installed (apt-get install -y wrk): "
              "the HTTP figures are skipped", file=sys.stderr, flush=True)
    return found


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    assert m, text
    return float(m[1]) * _UNIT[m[2]]


def parse_wrk(out: str) -> dict:
    """Requests/s, p50 and p99 (ms), and the count of non-2xx/3xx answers and socket errors from wrk's output."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    pct = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rate": round(rate, 1), "p50_ms": round(pct["50"], 2), "p90_ms": round(pct["90"], 2), "p99_ms": round(pct["99"], 2),
        "non_2xx_3xx": int(bad[1]) if bad else 0, "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
    }


def wrk(wrk_bin: str, url: str, *, seconds: int = SECONDS, method: str = "GET", body: str | None = None,
        headers: dict[str, str] | None = None, workdir: Path) -> dict:
    """One `wrk -t1 -c16 -dNs --latency` run; a Lua script carries the method, body and headers."""
    lines = [f"wrk.method = {json.dumps(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    for k, v in (headers or {}).items():
        lines.append(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}")
    script = workdir / f"wrk-{time.monotonic_ns()}.lua"
    script.write_text("\n".join(lines) + "\n")
    r = subprocess.run([wrk_bin, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                       capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(r.stdout)


def in_process_verify_rate(seconds: float = 3.0) -> float:
    """`crypto.verify` of a valid live frame (two Ed25519 checks, TOTP row, status) in this process, frames/s."""
    import crypto
    from bench.verify_py import _fixture, _rate

    now, trust, status, qr, *_ = _fixture()
    assert crypto.verify(qr, now, trust, status).result == "valid"
    return statistics.median(_rate(lambda: crypto.verify(qr, now, trust, status), seconds / 3) for _ in range(3))


def _post(base: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _fresh_frame(phone: Phone, seconds: int) -> str:
    """A live frame that stays inside the step window for `seconds` more (wait for a new step when too close)."""
    left = 60 - int(time.time()) % 30  # the frame's own step and the next one
    if left < seconds + 3:
        time.sleep(left - 30 + 0.5)  # into the next step: a full minute of validity ahead
    return phone.live()


def verify_run(wrk_bin: str, served: Served, phone: Phone, workdir: Path, seconds: int = SECONDS) -> dict:
    """wrk on POST /api/verify with one live frame, checked to read `valid` before and after the run."""
    qr = _fresh_frame(phone, seconds)
    body = {"qr": qr, "device_id": "bench"}
    assert _post(served.base, "/api/verify", body)["result"] == "valid"
    out = wrk(wrk_bin, served.base + "/api/verify", seconds=seconds, method="POST", body=json.dumps(body),
              headers={"Content-Type": "application/json"}, workdir=workdir)
    after = _post(served.base, "/api/verify", body)["result"]
    assert after == "valid", f"the frame read {after!r} after the run: the figures are not of valid frames"
    return out


def _hello(wrk_bin: str, workdir: Path) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "bench.http:hello_app", "--port", str(port),
                             "--no-access-log", "--log-level", "warning"], cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy_root(base)
        return wrk(wrk_bin, base + "/", workdir=workdir)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wait_healthy_root(base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the hello-world app did not answer at {base}")


def _best(runs: list[dict]) -> dict:
    best = max(runs, key=lambda r: r["rate"])
    return {**best, "rounds": [r["rate"] for r in runs]}


def _one_process(wrk_bin: str, tmp: Path) -> dict:
    """SQLite, one process: verify (interleaved with its baselines), trust, status (full and 304)."""
    served = Served(tmp / "sqlite")
    try:
        phone = served.phone("valid")
        verifies, hellos, in_process = [], [], []
        for _ in range(ROUNDS):
            in_process.append(in_process_verify_rate(2.0))
            hellos.append(_hello(wrk_bin, tmp))
            verifies.append(verify_run(wrk_bin, served, phone, tmp))
        verify = _best(verifies)
        gz = {"Accept-Encoding": "gzip"}
        trust = wrk(wrk_bin, served.base + "/api/trust", headers=gz, workdir=tmp)
        status = wrk(wrk_bin, served.base + "/api/status", headers=gz, workdir=tmp)
        with urllib.request.urlopen(served.base + "/api/status", timeout=10) as r:
            etag = r.headers["ETag"]
            cache_control = r.headers.get("Cache-Control")
        status_304 = wrk(wrk_bin, served.base + "/api/status", headers={**gz, "If-None-Match": etag}, workdir=tmp)
        return {"verify": verify, "trust": trust, "status": status, "status_304": status_304,
                "lists_cache_control": cache_control, "hello_world": _best(hellos),
                "in_process_verify_per_s": round(max(in_process)),
                "in_process_rounds": [round(x) for x in in_process]}
    finally:
        served.stop()


def _pg_processes(wrk_bin: str, tmp: Path) -> dict:
    """PostgreSQL, verify at 1, 2 and 4 server processes (one database, one seed)."""
    if not _pg_answers():
        return {"skipped": "no PostgreSQL on 127.0.0.1:5432"}
    name, url = asyncio.run(_pg_db())
    out: dict[str, dict] = {}
    try:
        served = Served(tmp / "pg", url)
        phone = served.phone("valid")
        served.stop()
        for n in PROCESSES:
            served.workers = n
            served.start()
            try:
                _settle(served, n)
                out[str(n)] = verify_run(wrk_bin, served, phone, tmp, seconds=max(5, SECONDS - 2))
            finally:
                served.stop()
    finally:
        asyncio.run(_pg_drop(name))
    return out


def _settle(served: Served, n: int) -> None:
    """Every worker process is up and has its pool warm before the clock starts."""
    for _ in range(20 * n):
        urllib.request.urlopen(served.base + "/api/trust", timeout=10).read()
    wait_healthy(served.base)


def _goal(name: str, value: float, unit: str, baseline: str, base: float | None, goal: str, need: float) -> dict:
    ratio = round(value / base, 3) if base else None
    return {"name": name, "value": value, "unit": unit, "baseline": baseline, "baseline_value": base, "ratio": ratio,
            "goal": goal, "met": None if ratio is None else ratio >= need}


def run() -> dict:
    result: dict = {"wrk": f"-t1 -c{CONNECTIONS} -d{SECONDS}s --latency", "rounds": ROUNDS}
    wrk_bin = ensure_wrk()
    if wrk_bin is None:
        result["in_process_verify_per_s"] = round(in_process_verify_rate())
        result["skipped"] = "wrk is not installed (apt-get install -y wrk): no HTTP figures"
        return result
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        one = _one_process(wrk_bin, tmp)
        pg = _pg_processes(wrk_bin, tmp)
    verify, hello, in_process = one["verify"], one["hello_world"], one["in_process_verify_per_s"]
    result.update({**one, "postgresql_verify_by_processes": pg})
    goals = [
        _goal("online verify rate (1 process, SQLite)", verify["rate"], "req/s", "crypto.verify in process",
              in_process, "ratio ≥ 0.5", 0.5),
        {"name": "online verify p99 at 16 connections", "value": verify["p99_ms"], "unit": "ms", "baseline": "goal",
         "baseline_value": 50.0, "ratio": round(verify["p99_ms"] / 50.0, 3), "goal": "≤ 50 ms",
         "met": verify["p99_ms"] <= 50.0},
        _goal("GET /api/trust rate", one["trust"]["rate"], "req/s", "hello-world Litestar on uvicorn", hello["rate"],
              "ratio ≥ 0.5", 0.5),
        _goal("GET /api/status rate", one["status"]["rate"], "req/s", "hello-world Litestar on uvicorn", hello["rate"],
              "ratio ≥ 0.5", 0.5),
        _goal("GET /api/status 304 rate", one["status_304"]["rate"], "req/s", "hello-world Litestar on uvicorn",
              hello["rate"], "ratio ≥ 0.5", 0.5),
    ]
    plots = []
    if "skipped" not in pg:
        first = pg["1"]["rate"]
        for n in PROCESSES[1:]:
            goals.append({"name": f"verify on PostgreSQL, {n} processes", "value": pg[str(n)]["rate"], "unit": "req/s",
                          "baseline": "1 process, same run", "baseline_value": first,
                          "ratio": round(pg[str(n)]["rate"] / first, 3), "goal": "reported (2 cores shared with wrk)",
                          "met": None})
        plots.append({
            "file": "http_verify_processes.png", "title": "POST /api/verify on PostgreSQL (wrk, 16 connections)",
            "x": "server processes", "y": "req/s",
            "series": {"verify req/s": [[n, pg[str(n)]["rate"]] for n in PROCESSES],
                       "crypto.verify in process (1 core)": [[n, in_process] for n in PROCESSES]},
        })
        plots.append({
            "file": "http_verify_processes_latency.png", "title": "POST /api/verify latency on PostgreSQL",
            "x": "server processes", "y": "ms",
            "series": {"p50": [[n, pg[str(n)]["p50_ms"]] for n in PROCESSES],
                       "p99": [[n, pg[str(n)]["p99_ms"]] for n in PROCESSES]},
        })
    result["goals"] = goals
    result["plots"] = plots
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
