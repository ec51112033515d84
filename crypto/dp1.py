"""DP1 credentials, live frames and printed cards (docs/spec/dp1.md), strictly decoded."""

from __future__ import annotations

import hashlib
import struct
from typing import Annotated

import msgspec

from crypto.encoding import b45decode, b45encode
from crypto.errors import Malformed
from crypto.keys import sign
from crypto.totp import totp_code

PREFIX_LIVE = "DP1:"
PREFIX_CARD = "DP1S:"
MAX_QR_CHARS = 512
STEP_SECONDS = 30
TAG_CRED = b"DP1/cred\0"
TAG_LIVE = b"DP1/live\0"

SERVICE_BITS = {"cleaning": 0, "cooking": 1, "childcare": 2, "elderly": 3, "maternity": 4, "repair": 5, "moving": 6}

# `\Z`, not `$`: Python's `$` also matches before a trailing newline ("agency-A\n").
KID_PATTERN = r"^[A-Za-z0-9_-]{1,16}\Z"
Kid = Annotated[str, msgspec.Meta(pattern=KID_PATTERN)]
UInt = Annotated[int, msgspec.Meta(ge=0)]
Sig = Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]
# What a strict msgspec decode raises on bad input (invalid UTF-8 in a str surfaces as UnicodeDecodeError).
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)


class Credential(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """The static, issuer-signed part of a pass: a MessagePack array of exactly 10."""

    kid: Kid
    serial: Annotated[int, msgspec.Meta(ge=0, lt=2**53)]
    status_index: UInt
    issued_day: UInt
    expires_day: UInt
    name: Annotated[str, msgspec.Meta(max_length=32)]
    agency_id: UInt
    photo_digest: Annotated[bytes, msgspec.Meta(min_length=16, max_length=16)]
    device_pub: Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
    services: UInt


class _Frame(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    cred: bytes
    issuer_sig: Sig
    step: UInt
    code: Annotated[int, msgspec.Meta(ge=0, le=999_999)]
    device_sig: Sig


class _Card(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    cred: bytes
    issuer_sig: Sig


class Parsed(msgspec.Struct):
    """A decoded QR: a live frame or a printed card."""

    kind: str  # "live" | "card"
    cred: Credential
    cred_bytes: bytes
    issuer_sig: bytes
    step: int | None = None
    code: int | None = None
    device_sig: bytes | None = None


_cred_decoder = msgspec.msgpack.Decoder(Credential)
_frame_decoder = msgspec.msgpack.Decoder(_Frame)
_card_decoder = msgspec.msgpack.Decoder(_Card)
_encoder = msgspec.msgpack.Encoder()


def day(t: int) -> int:
    """The day number of Unix time `t` (UTC)."""
    return t // 86400


def _check_name(name: str) -> None:
    if len(name.encode("utf-8")) > 32:
        raise Malformed("name longer than 32 UTF-8 bytes")


def encode_cred(c: Credential) -> bytes:
    """The credential's MessagePack bytes, checked against the spec's shapes first."""
    out = _encoder.encode(c)
    decode_cred(out)  # the same strict rules on the way out as on the way in
    return out


def decode_cred(b: bytes) -> Credential:
    """Strictly decode credential bytes: exactly the spec's array of 10, nothing after it."""
    try:
        cred = _cred_decoder.decode(b)
    except DECODE_ERRORS as e:
        raise Malformed(f"credential: {e}") from e
    _check_name(cred.name)
    return cred


def sign_cred(issuer_priv: bytes, cred_bytes: bytes) -> bytes:
    """The issuer's signature over "DP1/cred\\0" || cred."""
    return sign(issuer_priv, TAG_CRED + cred_bytes)


def live_message(cred_bytes: bytes, step: int, code: int) -> bytes:
    """What the device signs: tag || SHA-256(cred) || u64be(step) || u32be(code)."""
    return TAG_LIVE + hashlib.sha256(cred_bytes).digest() + struct.pack(">QI", step, code)


def make_frame(cred_bytes: bytes, issuer_sig: bytes, step: int, code: int, device_sig: bytes) -> str:
    """The QR text of a live frame; raises Malformed when the parts are off the spec's shapes."""
    return _checked(PREFIX_LIVE + b45encode(_encoder.encode([cred_bytes, issuer_sig, step, code, device_sig])))


def make_live_qr(cred_bytes: bytes, issuer_sig: bytes, secret_b32: str, device_priv: bytes, now: int) -> str:
    """The QR text a phone shows at `now`."""
    step = now // STEP_SECONDS
    code = totp_code(secret_b32, step)
    return make_frame(cred_bytes, issuer_sig, step, code, sign(device_priv, live_message(cred_bytes, step, code)))


def make_card(cred_bytes: bytes, issuer_sig: bytes) -> str:
    """A printed card: the credential and its signature, no live part."""
    return _checked(PREFIX_CARD + b45encode(_encoder.encode([cred_bytes, issuer_sig])))


def _checked(text: str) -> str:
    """The same strict rules on the way out as on the way in: never emit what `parse_qr` refuses."""
    parse_qr(text)
    return text


def parse_qr(text: str) -> Parsed:
    """Decode QR text strictly; anything off the spec's shapes raises Malformed."""
    if not isinstance(text, str):
        raise Malformed("QR content must be text")
    if len(text) > MAX_QR_CHARS:
        raise Malformed("QR text longer than 512 characters")
    decoder: msgspec.msgpack.Decoder[_Frame] | msgspec.msgpack.Decoder[_Card]
    if text.startswith(PREFIX_LIVE):
        body, decoder = text[len(PREFIX_LIVE) :], _frame_decoder
    elif text.startswith(PREFIX_CARD):
        body, decoder = text[len(PREFIX_CARD) :], _card_decoder
    else:
        raise Malformed("prefix is not DP1: or DP1S:")
    raw = b45decode(body)
    try:
        outer = decoder.decode(raw)
    except DECODE_ERRORS as e:
        raise Malformed(f"frame: {e}") from e
    cred = decode_cred(outer.cred)
    if isinstance(outer, _Frame):
        return Parsed("live", cred, outer.cred, outer.issuer_sig, outer.step, outer.code, outer.device_sig)
    return Parsed("card", cred, outer.cred, outer.issuer_sig)
