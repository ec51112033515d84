// App-wide state: network, lists and their age, clock offset. A tiny observable; views re-render on change.
import * as dp1 from "../dp1";
import { ApiError, api } from "./api";
import { pullOnce, syncOutbox, waitingCount } from "./outbox";
import { sendPendingUntie } from "./outletPhone";
import { db, kvGet, kvSet } from "./store";
import { refreshDirectory } from "./directory";

declare const __DP1_ROOT_PUB__: string;
export const ROOT_PUB = __DP1_ROOT_PUB__;

export interface State {
  online: boolean;
  trust?: dp1.TrustList;
  status?: dp1.StatusList;
  listsFetchedAt?: number;
  /** server time − phone time, seconds, learned at the last sync. */
  clockOffset: number;
  clockKnown: boolean;
  refreshing: boolean;
  updateReady?: () => void;
}

export const state: State = { online: navigator.onLine, clockOffset: 0, clockKnown: false, refreshing: false };
const listeners = new Set<() => void>();

export function subscribe(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function set(patch: Partial<State>): void {
  Object.assign(state, patch);
  listeners.forEach((f) => f());
}

/** Now, in Unix seconds, on the server's clock as far as we know it. */
export function now(): number {
  return Math.floor(Date.now() / 1000 + state.clockOffset);
}

async function openLists(trustEnv: unknown, statusEnv: unknown): Promise<[dp1.TrustList, dp1.StatusList]> {
  const trust = await dp1.openTrust(trustEnv, dp1.b64uDecode(ROOT_PUB));
  const status = await dp1.openStatus(statusEnv, trust.statusPub);
  return [trust, status];
}

/** Load the lists this phone already holds (works offline). */
export async function loadCached(): Promise<void> {
  const [trustEnv, statusEnv, fetchedAt, offset] = await Promise.all([
    kvGet("trust"), kvGet("status"), kvGet<number>("lists_fetched_at"), kvGet<number>("clock_offset"),
  ]);
  if (offset !== undefined) set({ clockOffset: offset, clockKnown: true });
  if (trustEnv && statusEnv) {
    try {
      const [trust, status] = await openLists(trustEnv, statusEnv);
      set({ trust, status, listsFetchedAt: fetchedAt });
    } catch {
      /* a stored list that no longer opens (e.g. a new root): wait for the next refresh */
    }
  }
}

/** Fetch the newest lists and the server's time. Higher seq wins; a list whose signature fails is ignored. */
export async function refresh(): Promise<boolean> {
  if (state.refreshing) return false;
  if (!navigator.onLine) {
    set({ online: false });
    return false;
  }
  set({ refreshing: true });
  try {
    const t0 = Date.now();
    const [trustEnv, statusEnv, time] = await Promise.all([
      api<dp1.Envelope>("/api/trust"), api<dp1.Envelope>("/api/status"), api<{ server_time: number }>("/api/time"),
    ]);
    const mid = (t0 + Date.now()) / 2000;
    const offset = Math.round(time.server_time - mid);
    await kvSet("clock_offset", offset);
    set({ clockOffset: offset, clockKnown: true, online: true });
    const [trust, status] = await openLists(trustEnv, statusEnv);
    const patch: Partial<State> = { listsFetchedAt: time.server_time };
    if (!state.trust || trust.seq >= state.trust.seq) {
      patch.trust = trust;
      await kvSet("trust", trustEnv);
    }
    if (!state.status || status.seq >= state.status.seq) {
      patch.status = status;
      await kvSet("status", statusEnv);
    }
    await kvSet("lists_fetched_at", time.server_time);
    await refreshDirectory(); // the agencies' phones and the hotline travel with the lists, for every screen offline
    set(patch);
    return true;
  } catch (e) {
    // Unreachable server counts as offline, whatever navigator.onLine says (captive or dead networks).
    if (e instanceof ApiError && e.code === "network") set({ online: false });
    return false;
  } finally {
    set({ refreshing: false });
  }
}

/** Sync now: lists, then the outbox. */
export async function syncAll(force = false): Promise<void> {
  await refresh();
  if (!navigator.onLine) return;
  const sent = await syncOutbox(force);
  try {
    // A sign-out left the phone's outlet tie to undo: once what it saved there has gone.
    if (!sent.error && (await kvGet<string>("outlet_unbind_pending")) && (await waitingCount()) === 0) await sendPendingUntie();
    // Only what this phone may ask for (docs/devices.md): its own pass's serial, and the outlet it is tied to.
    const pass = await (await db()).get("pass", "current");
    await pullOnce(pass?.serial, await kvGet<number>("outlet_bound"));
  } catch {
    /* the next sync pulls again */
  }
}

export function startWatching(): void {
  window.addEventListener("online", () => {
    set({ online: true });
    void syncAll(true);
  });
  window.addEventListener("offline", () => set({ online: false }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) void syncAll();
  });
  window.addEventListener("focus", () => navigator.onLine && void syncOutbox());
  setInterval(() => navigator.onLine && void syncOutbox(), 60 * 1000);
  setInterval(() => navigator.onLine && void refresh(), 5 * 60 * 1000);
}
