"""bench/http.py reads wrk's output right (units, percentiles, errors)."""

from __future__ import annotations

from bench.http import parse_wrk

SAMPLE = """Running 10s test @ http://127.0.0.1:8000/api/verify
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.91ms    3.10ms  95.20ms   90.12%
    Req/Sec     1.24k   120.33     1.40k    80.00%
  Latency Distribution
     50%   12.06ms
     75%  850.00us
     90%   16.07ms
     99%    1.21s
  12383 requests in 10.01s, 19.50MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   1237.06
Transfer/sec:      1.95MB
"""


def test_parse_wrk() -> None:
    r = parse_wrk(SAMPLE)
    assert r["rate"] == 1237.1
    assert r["p50_ms"] == 12.06 and r["p90_ms"] == 16.07 and r["p99_ms"] == 1210.0
    assert r["non_2xx_3xx"] == 7 and r["socket_errors"] == 5


def test_parse_wrk_without_errors() -> None:
    clean = "\n".join(line for line in SAMPLE.splitlines() if "errors" not in line and "Non-2xx" not in line)
    r = parse_wrk(clean)
    assert r["non_2xx_3xx"] == 0 and r["socket_errors"] == 0
