// Beeps made with WebAudio (no sound files) and a buzz where the device can vibrate.
let audio = null;

function context() {
  if (!audio) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    audio = new Ctx();
  }
  if (audio.state === "suspended") audio.resume();
  return audio;
}

function tone(frequency, start, length, type = "square") {
  const ctx = context();
  if (!ctx) return;
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = type;
  osc.frequency.value = frequency;
  gain.gain.setValueAtTime(0.2, ctx.currentTime + start);
  gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + start + length);
  osc.connect(gain).connect(ctx.destination);
  osc.start(ctx.currentTime + start);
  osc.stop(ctx.currentTime + start + length);
}

function buzz(pattern) {
  if (navigator.vibrate) navigator.vibrate(pattern);
}

// ok: one short high beep; warning: two mid beeps; error: a long low buzz the picker cannot miss.
export function ok() { tone(1760, 0, 0.08); buzz(40); }
export function warning() { tone(880, 0, 0.1); tone(880, 0.15, 0.1); buzz([60, 60, 60]); }
export function error() { tone(220, 0, 0.45, "sawtooth"); buzz([200, 80, 200]); }

export function forMessage(message) {
  if (!message) return;
  ({ info: ok, warning, error }[message.type] || ok)();
}
