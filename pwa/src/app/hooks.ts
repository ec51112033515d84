import { useEffect, useState } from "preact/hooks";
import { onLang } from "../i18n";
import { type State, state, subscribe } from "./state";

/** Re-render on any app-state or language change. */
export function useAppState(): State {
  const [, tick] = useState(0);
  useEffect(() => {
    const f = () => tick((n) => n + 1);
    const a = subscribe(f);
    const b = onLang(f);
    return () => {
      a();
      b();
    };
  }, []);
  return state;
}

/** Re-render every `ms` milliseconds (clocks, ages, countdowns). */
export function useTicker(ms: number): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    const id = setInterval(() => setN((x) => x + 1), ms);
    return () => clearInterval(id);
  }, [ms]);
  return n;
}
