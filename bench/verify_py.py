"""Python DP1 verification: frames/s against two raw Ed25519 verifications per frame (same run).

A frame's verification does two Ed25519 verifications (issuer, device) plus
base45, MessagePack, SHA-256 and a status look-up; the ratio says what the
rest costs. Also: the QR version a typical live frame needs at ECC level M.
"""

from __future__ import annotations

import statistics
import time

import segno

import crypto


def _fixture():  # type: ignore[no-untyped-def]
    now = 1_795_000_000
    root, status_key, issuer, device = (crypto.new_signing_key() for _ in range(4))
    trust_env = crypto.build_trust(
        root, seq=1, issued_at=now, status_pub=crypto.public_key(status_key),
        issuers=[crypto.Issuer(kid="agency-1", pub=crypto.public_key(issuer), agency_id=1, name="安心家政",
                               not_before=now - 86400, not_after=now + 86400 * 365)],
    )
    size = 131072
    status_env = crypto.build_status(status_key, seq=1, issued_at=now, size=size, bitstring=crypto.pack_status([0] * size, size))
    trust = crypto.open_trust(trust_env, crypto.public_key(root))
    status = crypto.open_status(status_env, trust.status_pub)
    cred = crypto.encode_cred(crypto.Credential(
        kid="agency-1", serial=123456789, status_index=77777, issued_day=now // 86400 - 10, expires_day=now // 86400 + 355,
        name="王秀英", agency_id=1, photo_digest=bytes(16), device_pub=crypto.public_key(device), services=0b1001,
    ))
    sig = crypto.sign_cred(issuer, cred)
    secret = crypto.new_totp_secret()
    qr = crypto.make_live_qr(cred, sig, secret, device, now)
    return now, trust, status, qr, cred, sig, issuer, device


def _rate(fn, seconds: float = 1.0) -> float:  # type: ignore[no-untyped-def]
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn()
        n += 50
    return n / elapsed


def run() -> dict:
    now, trust, status, qr, cred, sig, issuer, device = _fixture()
    assert crypto.verify(qr, now, trust, status).result == "valid"
    ipub, dpub = crypto.public_key(issuer), crypto.public_key(device)
    msg_c = b"DP1/cred\0" + cred
    parsed = crypto.parse_qr(qr)
    msg_d = crypto.live_message(cred, parsed.step, parsed.code)

    def two_raw() -> None:
        crypto.verify_sig(ipub, sig, msg_c)
        crypto.verify_sig(dpub, parsed.device_sig, msg_d)

    def full() -> None:
        crypto.verify(qr, now, trust, status)

    rounds = [(_rate(full, 0.5), _rate(two_raw, 0.5)) for _ in range(5)]
    ratios = [f / b for f, b in rounds]
    version = segno.make(qr, error="m", boost_error=False).version
    return {
        "frames_per_s": round(statistics.median(f for f, _ in rounds)),
        "baseline_two_ed25519_per_s": round(statistics.median(b for _, b in rounds)),
        "ratio_vs_baseline": round(statistics.median(ratios), 3),
        "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
        "live_qr_chars": len(qr),
        "live_qr_version_ecc_m": version,
        "live_qr_mode": segno.make(qr, error="m", boost_error=False).mode,
    }
