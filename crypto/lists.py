"""Trust lists and status lists: signed JSON envelopes `{"payload": b64u(P), "sig": b64u(S)}`.

The signature covers the exact payload bytes received; they are parsed only after it holds.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from crypto.encoding import b64u_decode, b64u_encode
from crypto.errors import BadSignature, Malformed
from crypto.keys import sign, verify_sig

TAG_TRUST = b"DP1/trust\0"
TAG_STATUS = b"DP1/status\0"
STATUS_GREEN, STATUS_YELLOW, STATUS_RED, STATUS_REVOKED = 0, 1, 2, 3
MAX_STATUS_ENTRIES = 1 << 24

Int = Annotated[int, msgspec.Meta(ge=0)]
Kid = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,16}$")]


class Issuer(msgspec.Struct, frozen=True):
    kid: str
    pub: bytes
    agency_id: int
    name: str
    not_before: int
    not_after: int


class TrustList(msgspec.Struct, frozen=True):
    seq: int
    issued_at: int
    status_pub: bytes
    issuers: list[Issuer]

    def issuer(self, kid: str) -> Issuer | None:
        for i in self.issuers:
            if i.kid == kid:
                return i
        return None


class StatusList(msgspec.Struct, frozen=True):
    seq: int
    issued_at: int
    size: int
    bits: int
    raw: bytes

    def get(self, index: int) -> int:
        """The 2-bit status at `index`; an index at or past `size` reads as revoked."""
        if not isinstance(index, int) or index < 0 or index >= self.size:
            return STATUS_REVOKED
        return (self.raw[index >> 2] >> (6 - 2 * (index & 3))) & 3


# Wire shapes of the payloads (JSON). Unknown fields are tolerated so lists can grow.
class _IssuerWire(msgspec.Struct):
    kid: Kid
    pub: str
    agency_id: Int
    name: str
    not_before: int
    not_after: int


class _TrustWire(msgspec.Struct):
    type: Literal["dp1-trust"]
    seq: Int
    issued_at: int
    status_pub: str
    issuers: list[_IssuerWire]


class _StatusWire(msgspec.Struct):
    type: Literal["dp1-status"]
    seq: Int
    issued_at: int
    size: Annotated[int, msgspec.Meta(ge=0, le=MAX_STATUS_ENTRIES)]
    bits: Literal[2]
    list: str


class _Envelope(msgspec.Struct):
    payload: str
    sig: str


_json = msgspec.json.Encoder()


def _envelope(priv: bytes, tag: bytes, payload: dict) -> dict:
    p = _json.encode(payload)
    return {"payload": b64u_encode(p), "sig": b64u_encode(sign(priv, tag + p))}


def _open(envelope: object, pub: bytes, tag: bytes) -> bytes:
    try:
        env = msgspec.convert(envelope, _Envelope)
    except msgspec.ValidationError as e:
        raise Malformed(f"envelope: {e}") from e
    payload, sig = b64u_decode(env.payload), b64u_decode(env.sig)
    if len(sig) != 64 or not verify_sig(pub, sig, tag + payload):
        raise BadSignature("list signature does not verify")
    return payload


def _key(text: str) -> bytes:
    key = b64u_decode(text)
    if len(key) != 32:
        raise Malformed("public key must be 32 bytes")
    return key


def build_trust(root_priv: bytes, *, seq: int, issued_at: int, status_pub: bytes, issuers: Sequence[Issuer]) -> dict:
    return _envelope(root_priv, TAG_TRUST, {
        "type": "dp1-trust", "seq": seq, "issued_at": issued_at, "status_pub": b64u_encode(status_pub),
        "issuers": [
            {"kid": i.kid, "pub": b64u_encode(i.pub), "agency_id": i.agency_id, "name": i.name,
             "not_before": i.not_before, "not_after": i.not_after}
            for i in issuers
        ],
    })


def open_trust(envelope: object, root_pub: bytes) -> TrustList:
    """Check the root's signature over the exact payload, then parse it."""
    payload = _open(envelope, root_pub, TAG_TRUST)
    try:
        w = msgspec.json.decode(payload, type=_TrustWire)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise Malformed(f"trust list: {e}") from e
    issuers = [Issuer(i.kid, _key(i.pub), i.agency_id, i.name, i.not_before, i.not_after) for i in w.issuers]
    return TrustList(w.seq, w.issued_at, _key(w.status_pub), issuers)


def pack_status(statuses: bytes | bytearray | Sequence[int], size: int) -> bytes:
    """The 2-bit big-endian bitstring of `size` entries (missing entries are 0)."""
    out = bytearray((size + 3) // 4)
    for i, v in enumerate(statuses):
        if i >= size:
            break
        if not 0 <= v <= 3:
            raise ValueError("status values are 0..3")
        out[i >> 2] |= v << (6 - 2 * (i & 3))
    return bytes(out)


def build_status(status_priv: bytes, *, seq: int, issued_at: int, size: int, bitstring: bytes) -> dict:
    if len(bitstring) != (size + 3) // 4:
        raise ValueError("bitstring length does not match size")
    return _envelope(status_priv, TAG_STATUS, {
        "type": "dp1-status", "seq": seq, "issued_at": issued_at, "size": size, "bits": 2,
        "list": b64u_encode(zlib.compress(bitstring, 9)),
    })


def open_status(envelope: object, status_pub: bytes) -> StatusList:
    """Check the status key's signature over the exact payload, then parse and inflate it."""
    payload = _open(envelope, status_pub, TAG_STATUS)
    try:
        w = msgspec.json.decode(payload, type=_StatusWire)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise Malformed(f"status list: {e}") from e
    need = (w.size + 3) // 4
    try:
        d = zlib.decompressobj()
        raw = d.decompress(b64u_decode(w.list), need + 1)
        if not d.eof or d.unused_data:
            raise Malformed("status list: bad zlib stream")
    except zlib.error as e:
        raise Malformed(f"status list: {e}") from e
    if len(raw) < need:
        raise Malformed("status list shorter than its size")
    if len(raw) > need:
        raise Malformed("status list longer than its size")
    return StatusList(w.seq, w.issued_at, w.size, w.bits, raw)


def newer(current: TrustList | StatusList | None, candidate: TrustList | StatusList) -> bool:
    """A verifier keeps the list with the higher seq."""
    return current is None or candidate.seq > current.seq
