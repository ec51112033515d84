// Photos, fetched from our server and kept only when their digest matches the credential's.
import * as dp1 from "../dp1";
import { db } from "./store";

export type PhotoState = { kind: "ok"; url: string } | { kind: "pending" } | { kind: "mismatch" };

export async function photoFor(serial: number, digest: Uint8Array, online: boolean): Promise<PhotoState> {
  const d = await db();
  const cached = await d.get("photos", serial);
  if (cached && dp1.equal(cached.digest, digest)) return { kind: "ok", url: URL.createObjectURL(cached.blob) };
  if (!online) return { kind: "pending" };
  try {
    const r = await fetch(`/api/passes/${serial}/photo`, { cache: "no-store" });
    if (!r.ok) return { kind: "pending" };
    const blob = await r.blob();
    const got = (await dp1.sha256(new Uint8Array(await blob.arrayBuffer()))).slice(0, 16);
    if (!dp1.equal(got, digest)) return { kind: "mismatch" };
    await d.put("photos", { serial, blob, digest });
    return { kind: "ok", url: URL.createObjectURL(blob) };
  } catch {
    return { kind: "pending" };
  }
}
