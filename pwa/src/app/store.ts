// What the phone keeps, in IndexedDB: lists, the worker's pass and key, verified photos.
import { type DBSchema, type IDBPDatabase, openDB } from "idb";

export interface StoredPass {
  serial: number;
  cred: Uint8Array;
  issuerSig: Uint8Array;
  /** The TOTP secret, sealed with `wrapKey` (AES-GCM, non-extractable). */
  secretIv: Uint8Array;
  secretCt: Uint8Array;
  wrapKey: CryptoKey;
  /** The device's Ed25519 key pair; the private half is non-extractable and never leaves the phone. */
  keys: CryptoKeyPair;
  enrolledAt: number;
}

/** `discarded`: a record that needed attention and was set aside on the phone (by hand, or replaced by its correction);
 * kept, never sent again. */
export type RecordState = "saved" | "sending" | "delivered" | "attention" | "discarded";

/** The server's answer to a push in a version it does not speak: the phone's app is older, or newer. */
export type VersionRefusal = "update_required" | "unsupported_version";

export interface OutboxRecord {
  id: string;
  seq: number;
  kind: string;
  /** The record (kind, id, seq, at and the kind's fields), as the views read it. */
  body: Record<string, unknown>;
  /** The record's JSON text, made once when it was saved: exactly what is signed and sent (docs/devices.md, Signed
   * records). Absent on records saved by an app from before signed records until their first push signs them. */
  text?: string;
  /** b64u Ed25519 signature of the device key over "DP1/record\0" || UTF-8(text). */
  sig?: string;
  state: RecordState;
  createdAt: number;
  attempts: number;
  nextTry: number;
  deliveredAt?: number;
  reason?: string;
  reasonEn?: string;
  /** Held on the phone because the server refused this app's sync version (docs/sync.md, Versions); sent again after an update. */
  versionHeld?: VersionRefusal;
  /** A short line for the list: who, what. */
  summary: string;
  /** When it was discarded (server-corrected Unix seconds); only for `discarded`. */
  discardedAt?: number;
  /** The corrected record that took this one's place (its id), when it was discarded by a correction. */
  replacedBy?: string;
  /** The record this one corrects (its id): a local note, not part of the signed body. */
  replaces?: string;
}

interface Schema extends DBSchema {
  kv: { key: string; value: unknown };
  outbox: { key: string; value: OutboxRecord; indexes: { state: string; seq: number } };
  pass: { key: string; value: StoredPass };
  photos: { key: number; value: { serial: number; blob: Blob; digest: Uint8Array } };
}

let dbp: Promise<IDBPDatabase<Schema>> | null = null;

export function db(): Promise<IDBPDatabase<Schema>> {
  dbp ??= openDB<Schema>("doorpass", 2, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) {
        d.createObjectStore("kv");
        d.createObjectStore("pass");
        d.createObjectStore("photos", { keyPath: "serial" });
      }
      if (oldVersion < 2) {
        const outbox = d.createObjectStore("outbox", { keyPath: "id" });
        outbox.createIndex("state", "state");
        outbox.createIndex("seq", "seq");
      }
    },
  });
  return dbp;
}

export async function kvGet<T>(key: string): Promise<T | undefined> {
  return (await (await db()).get("kv", key)) as T | undefined;
}

export async function kvSet(key: string, value: unknown): Promise<void> {
  await (await db()).put("kv", value, key);
}

/** This phone's device id, derived from its device key (docs/devices.md; `device.ts`). Records already saved
 * carry no device id: a push is attributed to the device that signs it. */
export { deviceId } from "./device";
