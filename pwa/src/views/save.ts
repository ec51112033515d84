// Saving a record from a form: when the phone cannot store it, say so and keep what was typed.
import { t } from "../i18n";

/** Run `save`; on failure show why (nothing was saved; the form stays filled in) and answer false. */
export async function trySave(save: () => Promise<unknown>, show: (message: string) => void): Promise<boolean> {
  try {
    await save();
    return true;
  } catch (e) {
    const name = e instanceof DOMException || e instanceof Error ? e.name : "";
    if (name === "PhotoError") show(t("complaint.photo_bad"));
    else if (name === "QuotaExceededError") show(t("save.full"));
    else show(t("save.failed", { why: e instanceof Error ? e.message : String(e) }));
    return false;
  }
}
