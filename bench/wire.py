"""Bytes on the wire of a first visit to `/verify`, `/` and `/pass` (issue 12), counted by a TCP proxy.

Headless Chromium with a fresh profile opens the page through a byte-counting proxy in front of a real server
(tests.served.Served, its own PWA build) and stays until the service worker is active, i.e. has precached the whole
app (every chunk and the decoder's wasm): what a first visit really costs. The proxy counts every byte the server
sends (headers included) and reads the HTTP/1.1 responses as they pass to attribute them to requests, with the
Content-Encoding each got. Playwright's own response sizes miss some bodies (the service worker's script), so
they are not used.

Per asset of the build: raw, gzip and brotli sizes of the files the build wrote (the server sends one of them);
the baseline is the same visit's bytes if nothing were compressed (raw sizes of what was fetched).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.conftest import CHROMIUM
from tests.served import Served, free_port

PAGES = ("/verify", "/", "/pass")
GOAL_BYTES = 500 * 1000
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@dataclass
class Exchange:
    method: str
    path: str
    accept_encoding: str = ""
    status: int = 0
    content_encoding: str = ""
    body_bytes: int = 0
    wire_bytes: int = 0  # headers and body as sent by the server


@dataclass
class Tally:
    down: int = 0
    up: int = 0
    exchanges: list[Exchange] = field(default_factory=list)


def _headers(block: bytes) -> tuple[str, dict[str, str]]:
    lines = block.decode("latin-1").split("\r\n")
    out: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        out[name.strip().lower()] = value.strip()
    return lines[0], out


class Proxy:
    """A TCP proxy that counts bytes and reads HTTP/1.1 request and response heads (no pipelining, as browsers do)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.tally = Tally()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def reset(self) -> Tally:
        done, self.tally = self.tally, Tally()
        return done

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        pending: list[Exchange] = []

        async def upstream() -> None:  # browser → server: requests (heads and any body)
            buf = b""
            while chunk := await reader.read(65536):
                self.tally.up += len(chunk)
                up_w.write(chunk)
                await up_w.drain()
                buf += chunk
                while b"\r\n\r\n" in buf:
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    line, h = _headers(head)
                    method, path = (line.split(" ") + ["", ""])[:2]
                    ex = Exchange(method, path, h.get("accept-encoding", ""))
                    pending.append(ex)
                    self.tally.exchanges.append(ex)
                    buf = buf[int(h.get("content-length", 0) or 0):]
            up_w.close()

        async def downstream() -> None:  # server → browser: count, and read response heads and lengths
            buf, body_left, current = b"", 0, None
            while chunk := await up_r.read(65536):
                self.tally.down += len(chunk)
                writer.write(chunk)
                await writer.drain()
                buf += chunk
                while buf:
                    if body_left:
                        take = min(body_left, len(buf))
                        body_left -= take
                        buf = buf[take:]
                        if current is not None:
                            current.wire_bytes += take
                        continue
                    if b"\r\n\r\n" not in buf:
                        break
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    line, h = _headers(head)
                    current = pending.pop(0) if pending else Exchange("?", "?")
                    current.status = int(line.split(" ")[1])
                    current.content_encoding = h.get("content-encoding", "")
                    current.body_bytes = int(h.get("content-length", 0) or 0)
                    current.wire_bytes = len(head) + 4
                    body_left = current.body_bytes if current.status != 304 and current.method != "HEAD" else 0
            writer.close()

        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await asyncio.gather(upstream(), downstream())


def _asset_sizes(dist: Path, rel: str) -> dict[str, int | None] | None:
    f = dist / rel.lstrip("/").split("?")[0]
    if rel in ("/", "") or not f.is_file():
        f = dist / "index.html" if "." not in rel.rsplit("/", 1)[-1] else f
    if not f.is_file():
        return None

    def size(p: Path) -> int | None:
        return p.stat().st_size if p.is_file() else None

    return {"raw": size(f), "gzip": size(f.with_name(f.name + ".gz")), "br": size(f.with_name(f.name + ".br"))}


def visit(proxy_base: str, path: str, profile: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=FLAGS, headless=True,
                                                   viewport={"width": 360, "height": 740})
        page = ctx.new_page()
        page.goto(proxy_base + path)
        # Active = installed = every precache entry fetched; then let the page's own requests settle.
        page.wait_for_function("navigator.serviceWorker.ready.then(r => !!r.active)", timeout=60_000)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1000)
        ctx.close()


def run() -> dict:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        s = Served(tmp, build_pwa=True)
        dist = tmp / "dist"
        proxy = Proxy(int(s.base.rsplit(":", 1)[1]))
        try:
            visits: dict[str, dict] = {}
            for path in PAGES:
                proxy.reset()
                visit(f"http://127.0.0.1:{proxy.port}", path, tmp / f"profile{len(visits)}")
                tally = proxy.reset()
                assets, uncompressed, gzip_only = [], 0, 0
                for ex in tally.exchanges:
                    sizes = _asset_sizes(dist, ex.path) if not ex.path.startswith("/api/") else None
                    raw = sizes["raw"] if sizes else ex.body_bytes
                    uncompressed += (raw or 0) if ex.status == 200 else ex.body_bytes
                    gz = (sizes["gzip"] or sizes["raw"]) if sizes else ex.body_bytes
                    gzip_only += (gz or 0) if ex.status == 200 else ex.body_bytes
                    assets.append({"path": ex.path, "status": ex.status, "encoding": ex.content_encoding or "identity",
                                   "sent_body_bytes": ex.body_bytes, "sent_wire_bytes": ex.wire_bytes, "files": sizes})
                visits[path] = {
                    "bytes_down": tally.down, "bytes_up": tally.up, "requests": len(tally.exchanges),
                    "accept_encoding": sorted({ex.accept_encoding for ex in tally.exchanges}),
                    "if_uncompressed_bytes": uncompressed, "if_gzip_only_body_bytes": gzip_only, "assets": assets,
                }
        finally:
            proxy.stop()
            s.stop()
        build = {}
        for f in sorted(dist.rglob("*")):
            if f.is_file() and f.suffix not in (".br", ".gz"):
                rel = str(f.relative_to(dist))
                build[rel] = _asset_sizes(dist, "/" + rel)
    totals = {k: sum((v or {}).get(k) or (v or {}).get("raw") or 0 for v in build.values()) for k in ("raw", "gzip", "br")}
    goals = []
    for path, v in visits.items():
        goals.append({
            "name": f"first visit to {path} on the wire (page + service worker precache)",
            "value": v["bytes_down"], "unit": "bytes",
            "baseline": "the same files uncompressed", "baseline_value": v["if_uncompressed_bytes"],
            "ratio": round(v["bytes_down"] / v["if_uncompressed_bytes"], 3) if v["if_uncompressed_bytes"] else None,
            "goal": f"≤ {GOAL_BYTES} bytes", "met": v["bytes_down"] <= GOAL_BYTES,
        })
    return {
        "visits": visits,
        "build_files": build,
        "build_totals_bytes": totals,
        "median_first_visit_bytes": statistics.median(v["bytes_down"] for v in visits.values()),
        "note": ("Chromium chooses the encoding by its Accept-Encoding (recorded per visit); brotli is what a browser "
                 "gets over HTTPS, and on plain http only where it advertises br."),
        "goals": goals,
    }


if __name__ == "__main__":
    out = run()
    for path, v in out["visits"].items():
        print(path, v["bytes_down"], "bytes down,", v["requests"], "requests; accept-encoding:", v["accept_encoding"])
        for a in v["assets"]:
            print("   ", a["status"], a["encoding"].ljust(8), str(a["sent_body_bytes"]).rjust(8), a["path"], a["files"])
    print(json.dumps({k: out[k] for k in ("build_totals_bytes", "median_first_visit_bytes", "goals")}, indent=2))
