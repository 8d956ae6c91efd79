// What every station page (packing, put wall, returns bench) shares: sounds, the answer banner,
// command keys and round trips, the PIN login for the station and the always-focused scan field,
// and for the pages a kiosk may open with its token the whole session. A page keeps its own state
// and draws its own panel.
import { io } from "/static/vendor/socket.io.esm.min.js";
import { newKey } from "/static/keys.js";

export const $ = (id) => document.getElementById(id);

// --- sounds (WebAudio, no files) -------------------------------------------------------------
let audio = null;
function tone(frequency, start, length, type = "square") {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  audio = audio || new Ctx();
  if (audio.state === "suspended") audio.resume();
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = type;
  osc.frequency.value = frequency;
  gain.gain.setValueAtTime(0.25, audio.currentTime + start);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + length);
  osc.connect(gain).connect(audio.destination);
  osc.start(audio.currentTime + start);
  osc.stop(audio.currentTime + start + length);
}
export const sounds = {
  ok: () => tone(1760, 0, 0.08),
  done: () => { tone(1320, 0, 0.1); tone(1760, 0.12, 0.18); },
  warning: () => { tone(880, 0, 0.1); tone(880, 0.15, 0.1); },
  error: () => { tone(220, 0, 0.5, "sawtooth"); tone(180, 0.55, 0.35, "sawtooth"); },
};

// --- the banner and the fixed text -------------------------------------------------------------
export function banner(type, text, code = "") {
  const box = $("banner");
  box.hidden = !text;
  box.className = `banner ${type}`;
  box.dataset.code = code;
  box.textContent = text || "";
}

export function translateFixed(t, lang) {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function field(label, value, kind = "") {
  const box = document.createElement("div");
  box.className = `field ${kind}`;
  const name = document.createElement("span");
  name.textContent = label;
  const text = document.createElement("strong");
  text.textContent = value ?? "";
  box.append(name, text);
  return box;
}

// --- commands ------------------------------------------------------------------------------------
export { newKey };  // time-ordered: see keys.js

// One command over the station's socket: its answer goes to onAnswer; no answer in 15 s is an
// error on the banner. Resolves with the answer, or null.
export function sendCommand(socket, request, { onAnswer, timeoutText }) {
  if (!socket) return Promise.resolve(null);
  return new Promise((resolve) => {
    socket.timeout(15000).emit("cmd", request, (error, result) => {
      if (error) { banner("error", timeoutText, "timeout"); sounds.error(); resolve(null); return; }
      onAnswer(result);
      resolve(result);
    });
  });
}

// The banner and the sound of an answer; the codes in doneCodes ring as a finished step.
export function announce(result, doneCodes) {
  const message = result.message || {};
  const type = result.ok ? (message.type === "warning" ? "warning" : "info") : "error";
  banner(type, message.text, message.code);
  if (!result.ok) sounds.error();
  else if (type === "warning") sounds.warning();
  else if (doneCodes.includes(message.code)) sounds.done();
  else sounds.ok();
}

// --- log in and connect --------------------------------------------------------------------------
// The codes with which the server ends a session: the event `session.ended` (a logout elsewhere,
// an expiry, a change of roles, a deactivation, a supervisor's release) or a command's answer.
export const SESSION_ENDS = ["logged_out", "session_expired", "role_changed", "user_deactivated", "device_released"];

// Wire a station's socket to the end of its session (`ended(payload)`: back to the login, saying
// why, in `lang()`) and to a refused connect: `refused()` for a token the server no longer takes; another
// refusal (the server's database away) is tried again in a few seconds while `current()` is
// still this socket.
export function watchSession(socket, { ended, refused, current, lang }) {
  // the sentence in the page's language: the event carries each (``texts``)
  socket.on("session.ended", (payload) => ended({ ...payload,
                                                  text: payload?.texts?.[serverLang(lang())] || payload?.text }));
  socket.on("connect_error", (error) => {
    if (error && error.message === "unauthorized") refused();
    else if (!socket.active) setTimeout(() => { if (current() === socket && !socket.connected) socket.connect(); }, 3000);
  });
}

export function showLogin(station) {
  $("login").hidden = false;
  $("work").hidden = true;
  $("logout").hidden = true;
  $("station-field").hidden = Boolean(station);
}

// PIN login for the station: the answer of /api/v1/auth/pin, or null once the refusal is shown.
export async function pinLogin(station, lang) {
  const request = { user: $("user").value.trim(), pin: $("pin").value, device: station };
  const response = await fetch("/api/v1/auth/pin", {
    method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": lang },
    body: JSON.stringify(request),
  });
  const answer = await response.json().catch(() => ({}));
  $("pin").value = "";
  if (!response.ok) { banner("error", answer.message || response.statusText, answer.code); sounds.error(); return null; }
  return answer;
}

export function endSession(token) {
  if (token) {
    fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }
}

// The page's language as the server names it ("en" or "zh-CN"): it goes with the connect and
// with every command, so that every sentence the server sends the station is in it.
export function serverLang(lang) { return lang === "en" ? "en" : "zh-CN"; }

// The work panel for the station, and its socket on /floor; `lang()` is the page's language at
// each (re)connect.
export function connect(station, token, lang) {
  $("login").hidden = true;
  $("work").hidden = false;
  $("logout").hidden = false;
  $("station").textContent = station;
  return io("/floor", { auth: (send) => send({ token, lang: serverLang(lang()) }), transports: ["websocket"] });
}

// --- the scan field ------------------------------------------------------------------------------
export function typingElsewhere() {
  const active = document.activeElement;
  return Boolean(active && active !== $("scan") && active.matches("input, textarea, select"));
}

export function focusScan() {
  if (!$("work").hidden && !typingElsewhere()) $("scan").focus({ preventScroll: true });
}

// A wedge scanner's burst of keys and Enter is one scan; the field keeps the focus unless
// someone is typing into another field (a weight, a login).
export function wireScanField(handle) {
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("scan").value;
    $("scan").value = "";
    handle(code);
  });
  $("scan").addEventListener("blur", () => setTimeout(focusScan, 0));
  document.addEventListener("click", () => setTimeout(focusScan, 0));
  document.addEventListener("keydown", (event) => {
    if (!typingElsewhere() && document.activeElement !== $("scan") && event.key.length === 1) focusScan();
  }, true);
}

// --- the station typed in the form -------------------------------------------------------------
// The station the page is for: the address's, else the one typed in the login form; when there
// is none, the form asks for it (``asking`` is the sentence) and the answer is "".
export function stationOrAsk(station, asking) {
  const chosen = station || $("station-code").value.trim();
  if (!chosen) {
    banner("error", asking, "no_station");
    sounds.error();
    $("station-code").focus();
  }
  return chosen;
}

// Kept like `?station=` in the address (a reload comes back to it) and in the browser (the form
// offers it again after a logout).
export function keepStation(station, storageKey) {
  localStorage.setItem(storageKey, station);
  const address = new URL(window.location.href);
  if (address.searchParams.get("station") !== station) {
    address.searchParams.set("station", station);
    history.replaceState(null, "", address);
  }
  document.title = document.title.replace(/ · [^·]*$/, ` · ${station}`);
  $("station").textContent = station;
}

// --- another language chosen --------------------------------------------------------------------
// The server hears it at once (what it sends the station unasked, a session's end, is in it too)
// and the sentence on the banner, in the other one, goes.
export function switchLanguage(page, storageKey, { translate, command, ended, render }) {
  page.lang = page.lang === "en" ? "zh" : "en";
  localStorage.setItem(storageKey, page.lang);
  translate();
  banner("", "");
  if (!page.socket?.connected) return;
  command("current", {}, (result) => {
    if (SESSION_ENDS.includes(result.message?.code)) ended(result.message);
    else render(result.next_state, result.data[result.next_state] || {});
  });
}

// --- a page's commands in its scenario ------------------------------------------------------------
// `command(action, params, onAnswer)` sends one in the page's language; `answer` draws its answer
// (a session's end goes to `ended`); `switchLanguage` turns the page to the other language, kept
// in the browser under `langKey`.
export function stationCommands(page, { scenario, langKey, doneCodes, t, translate, render, ended }) {
  function command(action, params = {}, onAnswer = answer) {
    const request = { key: newKey(), scenario, action, lang: serverLang(page.lang), ...params };
    return sendCommand(page.socket, request, { onAnswer, timeoutText: t("timeout") });
  }
  function answer(result) {
    if (SESSION_ENDS.includes(result.message?.code)) { ended(result.message); return; }
    announce(result, doneCodes);
    render(result.next_state, result.data[result.next_state] || {});
  }
  return { command, answer, switchLanguage: () => switchLanguage(page, langKey, { translate, command, ended, render }) };
}

// --- the session of a station a kiosk may open with its token ------------------------------------
// The put wall and the returns bench: the page's words come in <script id="texts">, the station
// and the page session's station and user on <body>. `name` keys what the browser keeps
// (wf.<name>.lang, wf.<name>.station, the PIN token as wf.<name>.<station>); `tokenUrl` answers
// the page session's token. The page draws with `render(state, data)`, takes its state from a
// snapshot with `fromSnapshot(snapshot)` ([state, data]) and hears more of its socket in
// `listen(socket)`; `boot(wire)` wires the page and opens the session.
export function stationSession({ name, scenario, tokenUrl, doneCodes, render, fromSnapshot, listen = () => {} }) {
  const texts = JSON.parse($("texts").textContent);
  const body = document.body.dataset;
  const page = {
    station: body.station || "",
    sessionStation: body.sessionStation || "",
    lang: localStorage.getItem(`wf.${name}.lang`) || body.lang || "zh",
    token: null,
    sessionToken: false,  // the token is the page session's (a kiosk that came with ?token=)
    socket: null,
    version: 0,
    state: null,
  };
  const t = (key) => (texts[page.lang] || texts.zh)[key] ?? key;
  const tokenKey = () => `wf.${name}.${page.station}`;
  const { command, answer, switchLanguage: otherLanguage } = stationCommands(page, {
    scenario, langKey: `wf.${name}.lang`, doneCodes, t, translate, render, ended: leave });

  function drawLink() {
    const on = Boolean(page.socket?.connected);
    $("link").textContent = t(on ? "online" : "offline");
    $("link").className = `link ${on ? "on" : "off"}`;
  }

  function translate() {
    translateFixed(t, page.lang);
    $("lang").textContent = page.lang === "en" ? "中文" : "EN";
    drawLink();
    if (page.state) render(page.state.name, page.state.data);
  }

  function askLogin() {
    showLogin(page.station);
    if (!$("user").value) $("user").value = body.user || "";
    ($("user").value ? $("pin") : $("user")).focus();
  }

  async function login(event) {
    event.preventDefault();
    const station = stationOrAsk(page.station, t("no_station"));
    if (!station) return;
    const answered = await pinLogin(station, page.lang);
    if (!answered) return;
    page.station = station;
    keepStation(station, `wf.${name}.station`);
    page.token = answered.token;
    page.sessionToken = false;
    sessionStorage.setItem(tokenKey(), answered.token);
    $("who").textContent = answered.user?.name || "";
    banner("", "");
    start();
  }

  function logout() {
    endSession(page.token);
    leave();
  }

  function leave(ended = null) {
    sessionStorage.removeItem(tokenKey());
    page.socket?.disconnect();
    page.socket = null;
    page.token = null;
    if (page.sessionToken) {
      const why = ended ? `&ended=${encodeURIComponent(ended.code)}` : "";
      window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}${why}`);
      return;
    }
    askLogin();
    if (ended) { banner("error", ended.text, ended.code); sounds.error(); }
  }

  // The station's token: the one this tab got by PIN, else the page session's when it is the station's.
  async function findToken() {
    const kept = page.station ? sessionStorage.getItem(tokenKey()) : null;
    if (kept) return kept;
    if (!page.station || page.sessionStation !== page.station) return null;
    const response = await fetch(tokenUrl, { credentials: "same-origin", cache: "no-store", redirect: "manual" })
      .catch(() => null);
    const answered = response && response.ok ? await response.json() : null;
    if (!answered || answered.station !== page.station) return null;
    page.sessionToken = true;
    $("who").textContent = answered.user?.name || "";
    return answered.token;
  }

  function start() {
    const socket = connect(page.station, page.token, () => page.lang);
    page.socket = socket;
    socket.on("connect", drawLink);
    socket.on("disconnect", drawLink);
    watchSession(socket, { ended: (ended) => leave(ended), refused: logout, current: () => page.socket,
                           lang: () => page.lang });
    socket.on("snapshot", (snapshot) => {
      page.version = snapshot.version;
      if (snapshot.user) $("who").textContent = snapshot.user.name;
      render(...fromSnapshot(snapshot));
    });
    listen(socket);
    focusScan();
  }

  async function boot(wire) {
    $("login").addEventListener("submit", login);
    $("logout").addEventListener("click", logout);
    $("lang").addEventListener("click", otherLanguage);
    wire();
    translate();
    if (!page.station) $("station-code").value = localStorage.getItem(`wf.${name}.station`) || "";
    page.token = await findToken();
    if (page.token) start(); else askLogin();
  }

  return { page, t, command, answer, boot };
}
