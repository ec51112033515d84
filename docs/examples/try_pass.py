"""A newcomer's script: enroll a phone key, build a live DP1 frame from the spec, verify it.

It uses no DoorPass code, only the spec (docs/spec/dp1.md) and common libraries:

    .venv/bin/python docs/examples/try_pass.py --code XXXX-XXXX-XXXX [--server http://127.0.0.1:8000]

Take a code from `python -m server seed-demo` (printed by `make run`). It prints
the answer to a frame made now (`valid`), to one made two minutes ago (`stale`:
what the same frame looks like two minutes later; `--wait 120` checks that for real), and,
with --revoke USER:PASSWORD (the demo regulator, `demo-regulator`, and the password seed-demo printed for it),
after revocation. Staff sign in with two factors: on the account's first sign-in the script sets up an
authenticator secret of its own (so sign in with that account by hand only after the next seed-demo run).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import struct
import time
import urllib.error
import urllib.request

import msgspec
import pyotp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += [B45[c], B45[d], B45[e]]
    if len(data) % 2:
        out += [B45[data[-1] % 45], B45[data[-1] // 45]]
    return "".join(out)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def call(server: str, path: str, body: dict, session: dict | None = None) -> dict:
    """POST JSON; `session` carries a staff session's cookie and CSRF token (and learns the cookie at sign-in)."""
    headers = {"content-type": "application/json"}
    if session and "cookie" in session:
        headers.update(cookie=session["cookie"], **{"x-csrf-token": session["csrf"]})
    req = urllib.request.Request(server + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            if session is not None and r.headers.get("set-cookie"):
                session["cookie"] = r.headers["set-cookie"].split(";")[0]
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return {"http_status": e.code, **json.loads(e.read() or b"{}")}


def staff_session(server: str, user: str, password: str) -> dict:
    """Sign in; on an account's first sign-in, set up two factors (the authenticator's first code)."""
    session: dict = {}
    me = call(server, "/api/auth/sign-in", {"username": user, "password": password}, session)
    if "csrf_token" not in me:
        raise SystemExit(f"sign-in refused: {me}")
    session["csrf"] = me["csrf_token"]
    if not me["totp_enabled"]:
        secret = call(server, "/api/auth/totp/setup", {}, session)["secret"]
        call(server, "/api/auth/totp/confirm", {"code": pyotp.TOTP(secret).now()}, session)
    return session


def live_frame(cred: bytes, issuer_sig: bytes, secret: str, device: Ed25519PrivateKey, now: int) -> str:
    step = now // 30
    code = int(pyotp.TOTP(secret).at(step * 30))
    msg = b"DP1/live\0" + hashlib.sha256(cred).digest() + struct.pack(">QI", step, code)
    frame = msgspec.msgpack.encode([cred, issuer_sig, step, code, device.sign(msg)])
    return "DP1:" + base45(frame)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="http://127.0.0.1:8000")
    ap.add_argument("--code", required=True)
    ap.add_argument("--revoke", metavar="USER:PASSWORD", help="a regulator or agency admin account from seed-demo")
    ap.add_argument("--wait", type=int, default=0, help="also wait this many seconds and re-check the very same frame")
    args = ap.parse_args()

    device = Ed25519PrivateKey.generate()
    pub = device.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    enrolled = call(args.server, "/api/enroll", {"code": args.code, "device_pub": b64u(pub)})
    if "serial" not in enrolled:
        print(json.dumps({"enroll": enrolled}, ensure_ascii=False))
        raise SystemExit(1)
    cred, sig = unb64u(enrolled["cred"]), unb64u(enrolled["issuer_sig"])
    now = int(time.time())
    frame = live_frame(cred, sig, enrolled["secret"], device, now)
    out = {"serial": enrolled["serial"], "now": call(args.server, "/api/verify", {"qr": frame})["result"]}
    # A frame made two minutes ago, checked now, is what a screenshot looks like.
    old = live_frame(cred, sig, enrolled["secret"], device, now - 120)
    out["two_minutes_old"] = call(args.server, "/api/verify", {"qr": old})["result"]
    if args.wait:
        print("waiting", args.wait, "s to show the same frame again ...", flush=True)
        time.sleep(args.wait)
        out["same_frame_later"] = call(args.server, "/api/verify", {"qr": frame})["result"]
    if args.revoke:
        user, _, password = args.revoke.partition(":")
        session = staff_session(args.server, user, password)
        out["revoke"] = call(args.server, f"/api/admin/passes/{enrolled['serial']}/revoke", {"reason": "测试注销"}, session).get("state")
        out["after_revoke"] = call(args.server, "/api/verify", {"qr": live_frame(cred, sig, enrolled["secret"], device, int(time.time()))})["result"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
