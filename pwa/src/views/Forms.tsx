import { useState } from "preact/hooks";
import { type Key, t } from "../i18n";
import { addRecord, allRecords } from "../app/outbox";
import type { OutboxRecord } from "../app/store";
import { dateTime } from "../app/format";
import * as dp1 from "../dp1";
import { UserError, trySave } from "./save";

/** One shown code: issuer, pass and time step (the server's `visit_key`), or the text when it does not parse. */
function shownCode(frame: unknown): string {
  if (typeof frame !== "string") return "";
  try {
    const p = dp1.parseQr(frame);
    return p.kind === "live" ? `${p.cred.kid}:${p.cred.serial}:${String(p.step)}` : frame;
  } catch {
    return frame;
  }
}

/** A review (or complaint) this phone already holds for the same visit (the same visit id, or the same shown code),
 * which the server would refuse as a second one: only those it has not refused already count. */
export async function priorRecord(kind: "review" | "complaint", visitId: string, frame: string): Promise<OutboxRecord | undefined> {
  const code = shownCode(frame);
  return (await allRecords()).find((r) => r.kind === kind && r.state !== "attention"
    && (r.body.visit_id === visitId || (code !== "" && shownCode(r.body.frame) === code)));
}

/** Refuse at once what the server would refuse later (one review and one complaint per visit and phone). */
async function refuseSecond(kind: "review" | "complaint", visitId: string, frame: string): Promise<void> {
  const prior = await priorRecord(kind, visitId, frame);
  if (prior) throw new UserError(t(kind === "review" ? "verdict.dup_review" : "verdict.dup_complaint", { time: dateTime(prior.createdAt) }));
}

const TAGS = ["punctual", "professional", "polite", "clean", "careful", "friendly"] as const;

/** A review's stars, tags and comment: the household's review form and the records page's correction both use it.
 * `testid`: the prefix of the star buttons' and the comment's test ids ("" → star-N; "fix-" → fix-star-N, fix-comment). */
export function ReviewFields({ stars, setStars, tags, setTags, comment, setComment, testid = "", rows = 4 }: {
  stars: number; setStars: (n: number) => void; tags: string[]; setTags: (x: string[]) => void;
  comment: string; setComment: (x: string) => void; testid?: string; rows?: number;
}) {
  return (
    <>
      <fieldset>
        <legend>{t("review.stars")}</legend>
        <div class="stars">
          {[1, 2, 3, 4, 5].map((n) => (
            <button type="button" key={n} aria-pressed={n <= stars} aria-label={t("verdict.star_n", { n })} data-testid={`${testid}star-${n}`}
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
        <textarea maxLength={500} rows={rows} value={comment} data-testid={testid ? `${testid}comment` : undefined}
          onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} />
      </label>
    </>
  );
}
const CATEGORIES = ["service_quality", "conduct", "safety", "property", "identity", "price", "other"] as const;

/** A complaint's category and text: the household's complaint form and the records page's correction both use it.
 * `testid`: the prefix of the text's test id ("" → none; "fix-" → fix-text). */
export function ComplaintFields({ category, setCategory, text, setText, testid = "", rows = 4, required = false }: {
  category: string; setCategory: (x: string) => void; text: string; setText: (x: string) => void;
  testid?: string; rows?: number; required?: boolean;
}) {
  return (
    <>
      <label>{t("complaint.category")}
        <select value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
          {CATEGORIES.map((c) => <option key={c} value={c}>{t(`cat.${c}` as Key)}</option>)}
        </select>
      </label>
      <label>{t("complaint.text")}
        <textarea required={required} maxLength={1000} rows={rows} value={text} data-testid={testid ? `${testid}text` : undefined}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </label>
    </>
  );
}

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
      const save = async () => {
        await refuseSecond("review", visitId, frame);
        await addRecord("review", fields, `${who} ${"★".repeat(stars)}`, at);
      };
      if (await trySave(save, setError)) onDone();
    }}>
      <h2>{t("review.title")}</h2>
      <ReviewFields stars={stars} setStars={setStars} tags={tags} setTags={setTags} comment={comment} setComment={setComment} />
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
export function ComplaintForm({ frame, visitId, at, who, onDone, category: first = "service_quality" }:
  { frame: string; visitId: string; at: number; who: string; onDone: () => void; category?: string }) {
  const [category, setCategory] = useState<string>(first);
  const [text, setText] = useState("");
  const [photo, setPhoto] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <form class="sheet" data-testid="complaint-form" onSubmit={async (e) => {
      e.preventDefault();
      const save = async () => {
        await refuseSecond("complaint", visitId, frame);
        const fields: Record<string, unknown> = { frame, visit_id: visitId, category, text };
        if (photo) fields.photo = await photoBase64(photo);
        await addRecord("complaint", fields, `${who} · ${t(`cat.${category}` as Key)}`, at);
      };
      if (await trySave(save, setError)) onDone();
    }}>
      <h2>{t("complaint.title")}</h2>
      <ComplaintFields category={category} setCategory={setCategory} text={text} setText={setText} required />
      <label>{t("complaint.photo")}
        <input type="file" accept="image/*" data-testid="complaint-photo"
          onChange={(e) => { setError(null); setPhoto((e.target as HTMLInputElement).files?.[0] ?? null); }} />
      </label>
      {error && <p class="error" role="alert" data-testid="save-error">{error}</p>}
      <button class="primary" type="submit" data-testid="complaint-submit">{t("complaint.submit")}</button>
    </form>
  );
}
