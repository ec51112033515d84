import { useState } from "preact/hooks";
import { type Key, t } from "../i18n";
import { addRecord } from "../app/outbox";
import { UserError, trySave } from "./save";

const TAGS = ["punctual", "professional", "polite", "clean", "careful", "friendly"] as const;
const CATEGORIES = ["service_quality", "conduct", "safety", "property", "identity", "price", "other"] as const;

/** A household's review of the visit it just verified; saved on the phone first. */
export function ReviewForm({ frame, visitId, at, who, onDone }: { frame: string; visitId: string; at: number; who: string; onDone: () => void }) {
  const [stars, setStars] = useState(5);
  const [tags, setTags] = useState<string[]>([]);
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <form class="sheet" data-testid="review-form" onSubmit={async (e) => {
      e.preventDefault();
      const fields = { frame, visit_id: visitId, stars, tags, comment: comment.slice(0, 500) };
      if (await trySave(() => addRecord("review", fields, `${who} ${"★".repeat(stars)}`, at), setError)) onDone();
    }}>
      <h2>{t("review.title")}</h2>
      <fieldset>
        <legend>{t("review.stars")}</legend>
        <div class="stars">
          {[1, 2, 3, 4, 5].map((n) => (
            <button type="button" key={n} aria-pressed={n <= stars} aria-label={`${n}`} data-testid={`star-${n}`}
              class={n <= stars ? "star on" : "star"} onClick={() => setStars(n)}>★</button>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>{t("review.tags")}</legend>
        <div class="chips">
          {TAGS.map((k) => (
            <button type="button" key={k} aria-pressed={tags.includes(k)} class={tags.includes(k) ? "chip on" : "chip"}
              onClick={() => setTags(tags.includes(k) ? tags.filter((x) => x !== k) : [...tags, k])}>{t(`tag.${k}` as Key)}</button>
          ))}
        </div>
      </fieldset>
      <label>{t("review.comment")}
        <textarea maxLength={500} value={comment} onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} rows={4} />
      </label>
      {error && <p class="error" role="alert" data-testid="save-error">{error}</p>}
      <button class="primary" type="submit" data-testid="review-submit">{t("review.submit")}</button>
    </form>
  );
}

/** The server takes complaint photos up to 512 KB; stay under it with room to spare. */
const PHOTO_LIMIT = 480 * 1024;

async function photoBase64(file: File): Promise<string> {
  // A JPEG of at most 1280 px, made smaller and coarser until it fits.
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new UserError(t("complaint.photo_bad")); // not an image this browser can read
  }
  for (const [side, quality] of [[1280, 0.8], [1280, 0.6], [960, 0.6], [720, 0.5], [480, 0.5]]) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
    canvas.getContext("2d")!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality });
    if (blob.size > PHOTO_LIMIT) continue;
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }
  throw new UserError(t("complaint.photo_bad")); // too large even when shrunk
}

/** A household's complaint about a verified visit; it reaches the agency and the regulator. */
export function ComplaintForm({ frame, visitId, at, who, onDone }: { frame: string; visitId: string; at: number; who: string; onDone: () => void }) {
  const [category, setCategory] = useState<string>("service_quality");
  const [text, setText] = useState("");
  const [photo, setPhoto] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <form class="sheet" data-testid="complaint-form" onSubmit={async (e) => {
      e.preventDefault();
      const save = async () => {
        const fields: Record<string, unknown> = { frame, visit_id: visitId, category, text };
        if (photo) fields.photo = await photoBase64(photo);
        await addRecord("complaint", fields, `${who} · ${t(`cat.${category}` as Key)}`, at);
      };
      if (await trySave(save, setError)) onDone();
    }}>
      <h2>{t("complaint.title")}</h2>
      <label>{t("complaint.category")}
        <select value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
          {CATEGORIES.map((c) => <option key={c} value={c}>{t(`cat.${c}` as Key)}</option>)}
        </select>
      </label>
      <label>{t("complaint.text")}
        <textarea required maxLength={1000} rows={4} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </label>
      <label>{t("complaint.photo")}
        <input type="file" accept="image/*" data-testid="complaint-photo"
          onChange={(e) => { setError(null); setPhoto((e.target as HTMLInputElement).files?.[0] ?? null); }} />
      </label>
      {error && <p class="error" role="alert" data-testid="save-error">{error}</p>}
      <button class="primary" type="submit" data-testid="complaint-submit">{t("complaint.submit")}</button>
    </form>
  );
}
