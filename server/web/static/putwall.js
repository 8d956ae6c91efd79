// The put wall station (播种墙): every scan is a `putwall` command over Socket.IO for this
// station. The server answers with the station's whole state; this page only draws it: the
// tote, the slot to put the scanned item into (very large) and the wall's slots.
// Scans come from a keyboard-wedge scanner typing into the focused scan field (a burst of keys
// and Enter), or from a kiosk calling window.wavefloorScan(code).
import { io } from "/static/vendor/socket.io.esm.min.js";

const TEXTS = JSON.parse(document.getElementById("texts").textContent);
const $ = (id) => document.getElementById(id);
const body = document.body.dataset;

const page = {
  station: body.station || "",
  sessionStation: body.sessionStation || "",
  lang: localStorage.getItem("wf.putwall.lang") || body.lang || "zh",
  token: null,
  sessionToken: false,  // the token is the page session's (a kiosk that came with ?token=)
  socket: null,
  version: 0,
  state: null,
};

function t(key) { return (TEXTS[page.lang] || TEXTS.zh)[key] ?? key; }
function tokenKey() { return `wf.putwall.${page.station}`; }

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
const sounds = {
  ok: () => tone(1760, 0, 0.08),
  done: () => { tone(1320, 0, 0.1); tone(1760, 0.12, 0.18); },
  warning: () => { tone(880, 0, 0.1); tone(880, 0.15, 0.1); },
  error: () => { tone(220, 0, 0.5, "sawtooth"); tone(180, 0.55, 0.35, "sawtooth"); },
};
const DONE_CODES = ["slot_complete", "tote_done"];

function drawLink() {
  const on = Boolean(page.socket?.connected);
  $("link").textContent = t(on ? "online" : "offline");
  $("link").className = `link ${on ? "on" : "off"}`;
}

function banner(type, text, code = "") {
  const box = $("banner");
  box.hidden = !text;
  box.className = `banner ${type}`;
  box.dataset.code = code;
  box.textContent = text || "";
}

function translate() {
  document.documentElement.lang = page.lang === "en" ? "en" : "zh-CN";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  $("lang").textContent = page.lang === "en" ? "中文" : "EN";
  drawLink();
  if (page.state) render(page.state.name, page.state.data);
}

// --- log in ----------------------------------------------------------------------------------
function showLogin() {
  $("login").hidden = false;
  $("work").hidden = true;
  $("logout").hidden = true;
  $("station-field").hidden = Boolean(page.station);
  if (!$("user").value) $("user").value = body.user || "";
  ($("user").value ? $("pin") : $("user")).focus();
}

async function login(event) {
  event.preventDefault();
  if (!page.station) page.station = $("station-code").value.trim();
  if (!page.station) { banner("error", t("no_station"), "no_station"); sounds.error(); return; }
  const request = { user: $("user").value.trim(), pin: $("pin").value, device: page.station };
  const response = await fetch("/api/v1/auth/pin", {
    method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": page.lang },
    body: JSON.stringify(request),
  });
  const answer = await response.json().catch(() => ({}));
  $("pin").value = "";
  if (!response.ok) { banner("error", answer.message || response.statusText, answer.code); sounds.error(); return; }
  page.token = answer.token;
  page.sessionToken = false;
  sessionStorage.setItem(tokenKey(), answer.token);
  $("who").textContent = answer.user?.name || "";
  banner("", "");
  start();
}

function logout() {
  if (page.token) {
    fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${page.token}` } }).catch(() => {});
  }
  sessionStorage.removeItem(tokenKey());
  page.socket?.disconnect();
  page.socket = null;
  page.token = null;
  if (page.sessionToken) { window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`); return; }
  showLogin();
}

// The station's token: the one this tab got by PIN, else the page session's when it is the station's.
async function findToken() {
  const kept = page.station ? sessionStorage.getItem(tokenKey()) : null;
  if (kept) return kept;
  if (!page.station || page.sessionStation !== page.station) return null;
  const response = await fetch("/putwall/socket-token", { credentials: "same-origin", cache: "no-store", redirect: "manual" })
    .catch(() => null);
  const answer = response && response.ok ? await response.json() : null;
  if (!answer || answer.station !== page.station) return null;
  page.sessionToken = true;
  $("who").textContent = answer.user?.name || "";
  return answer.token;
}

// --- the connection ------------------------------------------------------------------------------
function start() {
  $("login").hidden = true;
  $("work").hidden = false;
  $("logout").hidden = false;
  $("station").textContent = page.station;
  const socket = io("/floor", { auth: { token: page.token }, transports: ["websocket"] });
  page.socket = socket;
  socket.on("connect", drawLink);
  socket.on("disconnect", drawLink);
  socket.on("connect_error", (error) => { if (error.message === "unauthorized") logout(); });
  socket.on("snapshot", (snapshot) => {
    page.version = snapshot.version;
    if (snapshot.user) $("who").textContent = snapshot.user.name;
    const { state, ...data } = snapshot.putwall || { state: "scan_tote", station: page.station };
    render(state, data);
  });
  socket.on("putwall.progress", progressed);
  focusScan();
}

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));  // randomUUID needs https; a LAN page may not have it
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function command(action, params = {}) {
  if (!page.socket) return Promise.resolve(null);
  const request = { key: newKey(), scenario: "putwall", action, ...params };
  return new Promise((resolve) => {
    page.socket.timeout(15000).emit("cmd", request, (error, result) => {
      if (error) { banner("error", t("timeout"), "timeout"); sounds.error(); resolve(null); return; }
      answer(result);
      resolve(result);
    });
  });
}

function answer(result) {
  const message = result.message || {};
  const type = result.ok ? (message.type === "warning" ? "warning" : "info") : "error";
  banner(type, message.text, message.code);
  if (!result.ok) sounds.error();
  else if (type === "warning") sounds.warning();
  else if (DONE_CODES.includes(message.code)) sounds.done();
  else sounds.ok();
  render(result.next_state, result.data[result.next_state] || {});
}

// Another device of this station (or the same one, before its answer) changed a slot.
function progressed(event) {
  if (event.version < page.version || event.station !== page.station || !event.slot) return;
  const cell = document.querySelector(`#slots li[data-slot="${event.slot.slot}"]`);
  if (!cell) return;
  cell.querySelector(".count").textContent = `${event.slot.put} / ${event.slot.expected}`;
  cell.classList.toggle("complete", Boolean(event.slot.complete));
}

// --- scans ----------------------------------------------------------------------------------------
function handle(raw) {
  const code = String(raw ?? "").trim();
  if (!code || !page.token) return;
  command("scan", { code });
}
window.wavefloorScan = (code) => handle(code);

function typingElsewhere() {
  const active = document.activeElement;
  return Boolean(active && active !== $("scan") && active.matches("input, textarea, select"));
}

function focusScan() {
  if (!$("work").hidden && !typingElsewhere()) $("scan").focus({ preventScroll: true });
}

// --- drawing the state ----------------------------------------------------------------------------
function render(name, data) {
  page.state = { name, data };
  $("panel").dataset.state = name;
  $("wall").textContent = data.wall ? `${t("wall")} ${data.wall}` : "";
  const put = name === "put" ? data.put : null;
  $("prompt").textContent = put ? `${t("put")} ${put.slot} · ${t("then_label")}` : t(name === "scan_item" ? "scan_item" : "scan_tote");
  drawTote(data.tote, data.orders);
  drawPut(put);
  drawSlots(data.slots || [], put);
  $("close").hidden = !data.tote;
  focusScan();
}

function drawTote(tote, orders) {
  $("tote").hidden = !tote;
  if (!tote) return;
  $("tote").replaceChildren(
    field(t("tote"), tote.code, "code"), field(t("wave"), tote.wave),
    field(t("units_left"), String(tote.units), "units"),
    field(t("orders_done"), `${orders?.complete ?? 0} / ${orders?.total ?? 0}`, "orders"),
  );
}

function drawPut(put) {
  $("put").hidden = !put;
  if (!put) return;
  $("slot-number").textContent = String(put.slot);
  $("put-item").textContent = `${put.sku} ${put.name} ${put.spec || ""} × ${put.qty}`.replace(/\s+/g, " ");
  $("put-order").textContent = `${t("order")} ${put.order}`;
  $("put-label").textContent = put.label;
}

function drawSlots(slots, put) {
  $("slots").hidden = !slots.length;
  $("slots").replaceChildren(...slots.map((slot) => {
    const cell = document.createElement("li");
    cell.dataset.slot = slot.slot;
    cell.className = ["slot", slot.complete ? "complete" : "", put && put.slot === slot.slot ? "target" : ""].join(" ").trim();
    cell.title = slot.label;
    const number = document.createElement("span");
    number.className = "n";
    number.textContent = String(slot.slot);
    const order = document.createElement("span");
    order.className = "order";
    order.textContent = slot.order;
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = `${slot.put} / ${slot.expected}`;
    cell.append(number, order, count);
    return cell;
  }));
}

function field(label, value, kind = "") {
  const box = document.createElement("div");
  box.className = `field ${kind}`;
  const name = document.createElement("span");
  name.textContent = label;
  const text = document.createElement("strong");
  text.textContent = value ?? "";
  box.append(name, text);
  return box;
}

// --- wiring -------------------------------------------------------------------------------------
function wire() {
  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("lang").addEventListener("click", () => {
    page.lang = page.lang === "en" ? "zh" : "en";
    localStorage.setItem("wf.putwall.lang", page.lang);
    translate();
  });
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("scan").value;
    $("scan").value = "";
    handle(code);
  });
  $("close").addEventListener("click", () => command("close"));
  // The scan field keeps the focus unless someone is logging in.
  $("scan").addEventListener("blur", () => setTimeout(focusScan, 0));
  document.addEventListener("click", () => setTimeout(focusScan, 0));
  document.addEventListener("keydown", (event) => {
    if (!typingElsewhere() && document.activeElement !== $("scan") && event.key.length === 1) focusScan();
  }, true);
}

async function boot() {
  wire();
  translate();
  page.token = await findToken();
  if (page.token) start(); else showLogin();
}

boot();
