// What the household hears and feels when the verdict appears: tones made here with WebAudio (no audio files) and
// a vibration pattern, different for "open" (valid) and "do not open" (everything else); in care mode the verdict
// is also read aloud in Mandarin where the browser has a zh-CN voice.

export type Feel = "ok" | "caution" | "alarm";

export function feelOf(result: string): Feel {
  return result === "valid" ? "ok" : result === "caution" ? "caution" : "alarm";
}

/** Vibration patterns (ms on, off, on...). */
export const VIBRATE: Record<Feel, number[]> = { ok: [120], caution: [200, 120, 200], alarm: [500, 150, 500, 150, 500] };
/** Tones: [frequency Hz, start s, length s]. Rising and soft for valid; a low square-wave triple for the rest. */
const TONES: Record<Feel, { type: OscillatorType; notes: [number, number, number][] }> = {
  ok: { type: "sine", notes: [[660, 0, 0.12], [880, 0.14, 0.2]] },
  caution: { type: "triangle", notes: [[520, 0, 0.18], [520, 0.28, 0.18]] },
  alarm: { type: "square", notes: [[330, 0, 0.25], [220, 0.32, 0.25], [330, 0.64, 0.25], [220, 0.96, 0.3]] },
};

let audio: AudioContext | null = null;

function tones(feel: Feel): void {
  const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctx) return;
  audio ??= new Ctx();
  void audio.resume?.();
  const { type, notes } = TONES[feel];
  const t0 = audio.currentTime + 0.02;
  for (const [freq, start, len] of notes) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = type;
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0 + start);
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + start + len);
    osc.connect(gain).connect(audio.destination);
    osc.start(t0 + start);
    osc.stop(t0 + start + len + 0.02);
  }
}

/** Sound and vibration for a verdict; never throws (a phone without either simply stays quiet). */
export function signal(result: string): Feel {
  const feel = feelOf(result);
  try {
    tones(feel);
  } catch {
    /* no audio */
  }
  try {
    navigator.vibrate?.(VIBRATE[feel]);
  } catch {
    /* no vibration */
  }
  return feel;
}

/** A zh-CN voice, waiting briefly for the browser's voice list (it fills in late); null when there is none. */
export async function zhVoice(): Promise<SpeechSynthesisVoice | null> {
  const synth = window.speechSynthesis;
  if (!synth) return null;
  const find = () => synth.getVoices().find((v) => /^zh[-_](CN|Hans)/i.test(v.lang) || v.lang.toLowerCase() === "cmn-cn") ?? null;
  const now = find();
  if (now || synth.getVoices().length) return now;
  return new Promise((resolve) => {
    const done = () => resolve(find());
    synth.addEventListener?.("voiceschanged", done, { once: true });
    setTimeout(done, 1500);
  });
}

/** Read `text` aloud in Mandarin; answers false when the browser has no zh-CN voice (say so on screen). */
export async function speak(text: string): Promise<boolean> {
  const voice = await zhVoice();
  if (!voice) return false;
  try {
    const u = new SpeechSynthesisUtterance(text);
    u.voice = voice;
    u.lang = voice.lang;
    u.rate = 0.85; // a little slower: no hurry
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(u);
    return true;
  } catch {
    return false;
  }
}
