// Saving a record from a form: when the phone cannot store it, say so and keep what was typed.
import { t } from "../i18n";

/** An error whose message is already written for the person (in their language). */
export class UserError extends Error {}

/** Run `save`; on failure show why (nothing was saved; the form stays filled in) and answer false. */
export async function trySave(save: () => Promise<unknown>, show: (message: string) => void): Promise<boolean> {
  try {
    await save();
    return true;
  } catch (e) {
    const name = e instanceof DOMException || e instanceof Error ? e.name : "";
    if (e instanceof UserError) show(e.message);
    else if (name === "QuotaExceededError") show(t("save.full"));
    else show(t("save.failed", { why: e instanceof Error ? e.message : String(e) }));
    return false;
  }
}

/** The server's rule for a typed trainee number (sync/wire.py, Attendance.trainee_number): the outlet form and a
 * correction check it before saving. */
export const TRAINEE_NUMBER = /^[A-Za-z0-9-]{1,30}$/;
