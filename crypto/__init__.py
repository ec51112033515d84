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
from crypto.enums import IDENTITY_RESULTS, RESULTS, STATUS_RESULTS, Result, Status
from crypto.errors import BadSignature, CryptoError, DecryptError, Malformed, UnknownKey
from crypto.keys import (
    Keyring,
    master_key_id,
    new_master_key,
    new_signing_key,
    public_key,
    seal,
    sealed_key_id,
    sign,
    unseal,
    verify_sig,
)
from crypto.lists import (
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
from crypto.totp import check_code, check_code_now, new_totp_secret, totp_code
from crypto.verify import STEP_TOLERANCE, Verdict, step_window, verify, verify_code

__all__ = [
    "IDENTITY_RESULTS", "RESULTS", "SERVICE_BITS", "STATUS_RESULTS", "STEP_TOLERANCE",
    "BadSignature", "Credential", "CryptoError", "DecryptError", "Issuer", "Keyring", "Malformed", "Parsed",
    "Result", "Status", "StatusList", "TrustList", "UnknownKey", "Verdict",
    "b45decode", "b45encode", "b64u_decode", "b64u_encode", "build_status", "build_trust", "check_code", "check_code_now", "day",
    "decode_cred", "encode_cred", "live_message", "make_card", "make_frame", "make_live_qr", "master_key_id",
    "new_master_key",
    "new_signing_key", "new_totp_secret", "newer", "open_status", "open_trust", "pack_status", "parse_qr",
    "public_key", "seal", "sealed_key_id", "sign", "sign_cred", "step_window", "totp_code", "unseal", "verify", "verify_code", "verify_sig",
]
