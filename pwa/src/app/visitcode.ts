/** The household's visit code (docs/devices.md, The visit code) as the worker's phone reads it: its shape only.
 * Kept apart from the verdict screen so that the pass and records screens need not load the verdict's code. */

export interface VisitCode {
  visitId: string;
  /** b64u of 16 random bytes, new for every visit: the household's name for this visit only. */
  pseudonym: string;
  serial: number;
  /** Unix seconds of the verification, on the household phone's server-corrected clock. */
  at: number;
  sig: string;
}

const VISIT_CODE = /^DPV2:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{22})\.(0|[1-9]\d{0,15})\.([1-9]\d{0,11})\.([A-Za-z0-9_-]{86})$/;

/** The shape of a visit code; the worker cannot check its signature (the server does, with the household's key). */
export function parseVisitCode(text: string): VisitCode | null {
  const m = VISIT_CODE.exec(text);
  return m ? { visitId: m[1], pseudonym: m[2], serial: Number(m[3]), at: Number(m[4]), sig: m[5] } : null;
}
