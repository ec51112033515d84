// The string catalogue: zh-CN first, English second. Components call t(); no text lives in components.
import { en } from "./en";
import { type Key, zhCN } from "./zh-CN";

export type Lang = "zh-CN" | "en";
export type { Key };

const catalogues: Record<Lang, Record<Key, string>> = { "zh-CN": zhCN, en };
let lang: Lang = (localStorage.getItem("lang") as Lang) || "zh-CN";
const listeners = new Set<() => void>();

export function getLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  localStorage.setItem("lang", next);
  document.documentElement.lang = next;
  listeners.forEach((f) => f());
}

export function onLang(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function t(key: Key, params: Record<string, string | number> = {}): string {
  const text = catalogues[lang][key] ?? zhCN[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ""));
}

/** Pick the server's message in the current language. */
export function pick(zh: string | undefined, english: string | undefined): string {
  return (lang === "en" ? english || zh : zh || english) ?? "";
}
