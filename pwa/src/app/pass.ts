// The worker's pass on this phone: enrollment with the phone's non-extractable Ed25519 device key, and live frames.
import * as dp1 from "../dp1";
import { api } from "./api";
import { device } from "./device";
import { type StoredPass, db } from "./store";

interface EnrollAnswer {
  serial: number;
  cred: string;
  issuer_sig: string;
  secret: string;
  server_time: number;
}

const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;

export async function ed25519Supported(): Promise<boolean> {
  try {
    await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    return true;
  } catch {
    return false;
  }
}

export async function loadPass(): Promise<StoredPass | undefined> {
  return (await db()).get("pass", "current");
}

/** Bind a pass to this phone's device key: the one it already has (made at first use, whatever the phone did
 * before), so a phone that synced as a household keeps its device id, receipts and pull cursor (docs/devices.md). */
export async function enroll(code: string): Promise<StoredPass> {
  const { keys, pub } = await device();
  const answer = await api<EnrollAnswer>("/api/enroll", { code: code.trim(), device_pub: dp1.b64uEncode(pub) }, 15000);
  const wrapKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, wrapKey, new TextEncoder().encode(answer.secret)));
  const stored: StoredPass = {
    serial: answer.serial,
    cred: dp1.b64uDecode(answer.cred),
    issuerSig: dp1.b64uDecode(answer.issuer_sig),
    secretIv: iv,
    secretCt: ct,
    wrapKey,
    keys,
    enrolledAt: answer.server_time,
  };
  await (await db()).put("pass", stored, "current");
  return stored;
}

export async function liveFrame(p: StoredPass, now: number): Promise<{ qr: string; step: number; code: number }> {
  const secret = new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv: buf(p.secretIv) }, p.wrapKey, buf(p.secretCt)));
  const sign = async (msg: Uint8Array) => new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, p.keys.privateKey, buf(msg)));
  return dp1.makeLiveQr(p.cred, p.issuerSig, secret, sign, now);
}
