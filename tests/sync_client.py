"""A phone's outbox, in Python, with the PWA's rules: a record leaves only on its receipt.

Network errors, 5xx and 401 keep a record for the next round; `rejected` and
`conflict` mark it for attention; `applied` and `duplicate` of an applied
record mark it delivered. Used by the fault-injection tests and the benchmarks.
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import threading

import httpx

from tests.records import VERSIONS, Device

__all__ = ["VERSIONS", "DroppingProxy", "Outbox", "body_hash"]


def body_hash(record: dict) -> str:
    """SHA-256 of the record's body as its envelope carries it (`Device.envelope`): what the server keeps as `body_hash`."""
    return hashlib.sha256(json.dumps(record, ensure_ascii=False).encode()).hexdigest()


class Outbox:
    """One device's outbox. Each record is signed once, when it is saved, and its envelope is what every (re)send
    carries, byte for byte (docs/devices.md)."""

    def __init__(self, device: Device, records: list[dict]) -> None:
        self.device = device
        self.device_id = device.id
        self.records = {r["id"]: r for r in records}
        self.envelopes = {r["id"]: device.envelope(r) for r in records}
        self.state = {r["id"]: "saved" for r in records}
        self.receipts: dict[str, list[dict]] = {r["id"]: [] for r in records}
        self.lock = threading.Lock()
        self.errors = 0

    def pending(self) -> list[dict]:
        with self.lock:
            return [self.records[i] for i, s in self.state.items() if s == "saved"]

    def send(self, base: str, batch: list[dict], timeout: float = 30) -> bool:
        """Push one batch of saved records in their envelopes, the request signed by the device key (registered
        beforehand); True when receipts came back."""
        envelopes = [self.envelopes[rec["id"]] for rec in batch]
        body, headers = self.device.push_request({"device_id": self.device_id, "records": envelopes, **VERSIONS}, sign=False)
        try:
            r = httpx.post(f"{base}/api/sync/push", content=body, headers={"Connection": "close", **headers}, timeout=timeout)
        except httpx.HTTPError:
            self.errors += 1
            return False
        if r.status_code >= 500 or r.status_code == 401:
            self.errors += 1
            return False
        assert r.status_code == 200, r.text
        with self.lock:
            for rec, receipt in zip(batch, r.json()["receipts"], strict=True):
                assert receipt["id"] == rec["id"]
                self.receipts[rec["id"]].append(receipt)
                status = receipt["status"]
                if status == "applied" or (status == "duplicate" and receipt["original"] == "applied"):
                    self.state[rec["id"]] = "delivered"
                elif status in ("rejected", "conflict") or receipt.get("original") == "rejected":
                    self.state[rec["id"]] = "attention"
        return True

    def sync(self, bases: list[str], *, batch: int = 100, rng: random.Random, replay: float = 0.0,
             shuffle: bool = False, rounds: int = 400) -> None:
        """Send until nothing is pending: batches in random order, some already-delivered records replayed."""
        for _ in range(rounds):
            pending = self.pending()
            if not pending:
                return
            if shuffle:
                rng.shuffle(pending)
            chunk = pending[:batch]
            if replay:
                done = [self.records[i] for i, s in self.state.items() if s != "saved"]
                chunk += rng.sample(done, min(len(done), int(batch * replay)))
                rng.shuffle(chunk)
            self.send(rng.choice(bases), chunk)
        raise AssertionError(f"{len(self.pending())} records still pending after {rounds} rounds")


class DroppingProxy:
    """A TCP proxy that, for a share of requests, lets the server answer and then cuts the connection
    before the client sees the response: the commit happened, the receipt is lost."""

    def __init__(self, upstream_port: int, drop: float, seed: int = 1) -> None:
        self.upstream_port, self.drop = upstream_port, drop
        self.rng = random.Random(seed)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.dropped = 0
        self.running = True
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.running:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _handle(self, client: socket.socket) -> None:
        with client:
            request = self._read_request(client)
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=60)
            except OSError:
                return
            with up:
                up.sendall(request)
                response = b""
                while True:
                    try:
                        chunk = up.recv(65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    response += chunk
            if self.rng.random() < self.drop:
                self.dropped += 1
                client.shutdown(socket.SHUT_RDWR)
                return
            client.sendall(response)

    def close(self) -> None:
        self.running = False
        self.sock.close()
