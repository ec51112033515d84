"""DP1, the door-service pass format (docs/spec/dp1.md): pure functions, no I/O, time passed in."""

from crypto.dp1 import (
    SERVICE_BITS,
    Credential,
    Parsed,
    day,
    decode_cred,
    encode_cred,
    live_message,
    make_card,
    make_frame,
    make_live_qr,
    parse_qr,
    sign_cred,
)
from crypto.encoding import b45decode, b45encode, b64u_decode, b64u_encode
from crypto.errors import BadSignature, CryptoError, DecryptError, Malformed
from crypto.keys import new_master_key, new_signing_key, public_key, seal, sign, unseal, verify_sig
from crypto.lists import (
    STATUS_GREEN,
    STATUS_RED,
    STATUS_REVOKED,
    STATUS_YELLOW,
    Issuer,
    StatusList,
    TrustList,
    build_status,
    build_trust,
    newer,
    open_status,
    open_trust,
    pack_status,
)
from crypto.totp import check_code, new_totp_secret, totp_code
from crypto.verify import RESULTS, Verdict, verify

__all__ = [
    "RESULTS", "SERVICE_BITS", "STATUS_GREEN", "STATUS_RED", "STATUS_REVOKED", "STATUS_YELLOW",
    "BadSignature", "Credential", "CryptoError", "DecryptError", "Issuer", "Malformed", "Parsed", "StatusList",
    "TrustList", "Verdict",
    "b45decode", "b45encode", "b64u_decode", "b64u_encode", "build_status", "build_trust", "check_code", "day",
    "decode_cred", "encode_cred", "live_message", "make_card", "make_frame", "make_live_qr", "new_master_key",
    "new_signing_key", "new_totp_secret", "newer", "open_status", "open_trust", "pack_status", "parse_qr",
    "public_key", "seal", "sign", "sign_cred", "totp_code", "unseal", "verify", "verify_sig",
]
