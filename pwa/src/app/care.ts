// 关怀模式 (care mode) for older households, after the MIIT 适老化 rules for mobile apps: larger text (≥ 18 pt, 24 px),
// touch targets of at least 60 × 60 px, high contrast, nothing that hurries, the verdict read aloud. Kept in
// localStorage and applied as the class `care` on <html>, so every page follows.
const KEY = "care_mode";
const listeners = new Set<() => void>();

export function careOn(): boolean {
  try {
    return localStorage.getItem(KEY) === "1";
  } catch {
    return false;
  }
}

function apply(on: boolean): void {
  document.documentElement.classList.toggle("care", on);
}

export function setCare(on: boolean): void {
  try {
    localStorage.setItem(KEY, on ? "1" : "0");
  } catch {
    /* private mode: applies to this page only */
  }
  apply(on);
  listeners.forEach((f) => f());
}

export function onCare(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

// Applied as soon as the app's code loads, before the first view draws.
apply(careOn());
