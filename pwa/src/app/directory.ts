// The agency directory (id, name, phone of every agency) and the hotline, fetched from the server when online and
// kept on the phone (IndexedDB kv), so a verdict names the agency's phone offline too. Other views read
// kvGet("agency_directory") as an array of { id, name, phone }: keep that shape under that key.
import { api } from "./api";
import { kvGet, kvSet } from "./store";

export interface DirectoryAgency {
  id: number;
  name: string;
  phone: string;
}

interface DirectoryAnswer {
  agencies: DirectoryAgency[];
  hotline: string;
  issued_at: number;
}

/** Used until the phone has heard the server's: the city service hotline. */
export const DEFAULT_HOTLINE = "12345";

let cached: { agencies: DirectoryAgency[]; hotline: string } | null = null;

/** What the phone holds (works offline). */
export async function loadDirectory(): Promise<{ agencies: DirectoryAgency[]; hotline: string }> {
  if (cached) return cached;
  const [agencies, hotline] = await Promise.all([kvGet<DirectoryAgency[]>("agency_directory"), kvGet<string>("hotline")]);
  cached = { agencies: Array.isArray(agencies) ? agencies : [], hotline: hotline || DEFAULT_HOTLINE };
  return cached;
}

/** Fetch the newest directory when online; keeps the old copy on any failure. */
export async function refreshDirectory(): Promise<void> {
  if (!navigator.onLine) return;
  try {
    const d = await api<DirectoryAnswer>("/api/directory");
    const agencies = d.agencies.map((a) => ({ id: a.id, name: a.name, phone: a.phone }));
    await Promise.all([kvSet("agency_directory", agencies), kvSet("hotline", d.hotline), kvSet("agency_directory_at", d.issued_at)]);
    cached = { agencies, hotline: d.hotline || DEFAULT_HOTLINE };
  } catch {
    /* offline or the server unreachable: the copy on the phone stays */
  }
}

export async function agencyPhone(agencyId: number | undefined): Promise<string> {
  if (agencyId === undefined) return "";
  return (await loadDirectory()).agencies.find((a) => a.id === agencyId)?.phone ?? "";
}

/** A number as a `tel:` link target (digits, + and - only). */
export function telHref(phone: string): string {
  return `tel:${phone.replace(/[^0-9+]/g, "")}`;
}

export interface Rating {
  serial: number;
  confirmed_count: number;
  average: number | null;
}

/** The worker's rating from confirmed visits only (online); null when it cannot be had now. */
export async function ratingOf(serial: number): Promise<Rating | null> {
  if (!navigator.onLine) return null;
  try {
    return await api<Rating>(`/api/passes/${serial}/rating`);
  } catch {
    return null;
  }
}
