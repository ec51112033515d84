"""Trust lists and status lists: signed JSON envelopes `{"payload": b64u(P), "sig": b64u(S)}`.

The signature covers the exact payload bytes received; they are parsed only after it holds.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from crypto.dp1 import DECODE_ERRORS, Kid
from crypto.encoding import b64u_decode, b64u_encode
from crypto.enums import Status
from crypto.errors import BadSignature, Malformed
from crypto.keys import sign, verify_sig

TAG_TRUST = b"DP1/trust\0"
TAG_STATUS = b"DP1/status\0"
MAX_STATUS_ENTRIES = 1 << 24

Int = Annotated[int, msgspec.Meta(ge=0)]


class Issuer(msgspec.Struct, frozen=True):
    """An issuer key of the trust list, valid for `now` in [not_before, not_after]."""

    kid: str
    pub: bytes
    agency_id: int
    name: str
    not_before: int
    not_after: int


class TrustList(msgspec.Struct, frozen=True):
    """An opened trust list (signed by the root)."""

    seq: int
    issued_at: int
    status_pub: bytes
    issuers: list[Issuer]

    def issuer(self, kid: str) -> Issuer | None:
        """The issuer named `kid`, or None."""
        for i in self.issuers:
            if i.kid == kid:
                return i
        return None


class StatusList(msgspec.Struct, frozen=True):
    """An opened status list; `raw` is the inflated 2-bit bitstring."""

    seq: int
    issued_at: int
    size: int
    bits: int
    raw: bytes

    def get(self, index: int) -> Status:
        """The 2-bit status at `index`; an index at or past `size` reads as revoked."""
        if not isinstance(index, int) or index < 0 or index >= self.size:
            return Status.REVOKED
        return Status((self.raw[index >> 2] >> (6 - 2 * (index & 3))) & 3)


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


def _envelope(priv: bytes, tag: bytes, payload: bytes) -> dict[str, str]:
    return {"payload": b64u_encode(payload), "sig": b64u_encode(sign(priv, tag + payload))}


def _open(envelope: object, pub: bytes, tag: bytes) -> bytes:
    """The exact payload bytes of an envelope whose signature holds."""
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


def _parse_trust(payload: bytes) -> TrustList:
    try:
        w = msgspec.json.decode(payload, type=_TrustWire)
    except DECODE_ERRORS as e:
        raise Malformed(f"trust list: {e}") from e
    issuers = [Issuer(i.kid, _key(i.pub), i.agency_id, i.name, i.not_before, i.not_after) for i in w.issuers]
    return TrustList(w.seq, w.issued_at, _key(w.status_pub), issuers)


def build_trust(
    root_priv: bytes, *, seq: int, issued_at: int, status_pub: bytes, issuers: Sequence[Issuer]
) -> dict[str, str]:
    """The signed trust-list envelope; raises Malformed rather than sign a list `open_trust` would refuse."""
    payload = _json.encode({
        "type": "dp1-trust", "seq": seq, "issued_at": issued_at, "status_pub": b64u_encode(status_pub),
        "issuers": [
            {"kid": i.kid, "pub": b64u_encode(i.pub), "agency_id": i.agency_id, "name": i.name,
             "not_before": i.not_before, "not_after": i.not_after}
            for i in issuers
        ],
    })
    _parse_trust(payload)
    return _envelope(root_priv, TAG_TRUST, payload)


def open_trust(envelope: object, root_pub: bytes) -> TrustList:
    """Check the root's signature over the exact payload, then parse it."""
    return _parse_trust(_open(envelope, root_pub, TAG_TRUST))


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


def build_status(status_priv: bytes, *, seq: int, issued_at: int, size: int, bitstring: bytes) -> dict[str, str]:
    """The signed status-list envelope of a `pack_status` bitstring; raises ValueError / Malformed on bad input."""
    if len(bitstring) != (size + 3) // 4:
        raise ValueError("bitstring length does not match size")
    payload = _json.encode({
        "type": "dp1-status", "seq": seq, "issued_at": issued_at, "size": size, "bits": 2,
        "list": b64u_encode(zlib.compress(bitstring, 9)),
    })
    _parse_status(payload)
    return _envelope(status_priv, TAG_STATUS, payload)


def open_status(envelope: object, status_pub: bytes) -> StatusList:
    """Check the status key's signature over the exact payload, then parse and inflate it."""
    return _parse_status(_open(envelope, status_pub, TAG_STATUS))


def _parse_status(payload: bytes) -> StatusList:
    try:
        w = msgspec.json.decode(payload, type=_StatusWire)
    except DECODE_ERRORS as e:
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
