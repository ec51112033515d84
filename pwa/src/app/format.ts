import { getLang, t } from "../i18n";

export function age(seconds: number): string {
  if (seconds < 60) return t("age.now");
  if (seconds < 3600) return t("age.min", { n: Math.floor(seconds / 60) });
  if (seconds < 86400) return t("age.hour", { n: Math.floor(seconds / 3600) });
  return t("age.day", { n: Math.floor(seconds / 86400) });
}

export function dayToDate(day: number): string {
  return new Date(day * 86400 * 1000).toISOString().slice(0, 10);
}

export function dateTime(unix: number): string {
  return new Date(unix * 1000).toLocaleString(getLang() === "en" ? "en-GB" : "zh-CN", { hour12: false });
}

export function duration(seconds: number): string {
  const s = Math.abs(seconds);
  if (s < 3600) return getLang() === "en" ? `${Math.round(s / 60)} min` : `${Math.round(s / 60)} 分钟`;
  return getLang() === "en" ? `${(s / 3600).toFixed(1)} h` : `${(s / 3600).toFixed(1)} 小时`;
}

/** The phone's own calendar day (YYYY-MM-DD) at Unix time `t`: a training session is on the day where it happens. */
export function localDay(t: number): string {
  const d = new Date(t * 1000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}
