// The put wall station (播种墙): every scan is a `putwall` command over Socket.IO for this
// station. The server answers with the station's whole state; this page only draws it: the
// tote, the slot to put the scanned item into (very large) and the wall's slots.
// Scans come from a keyboard-wedge scanner typing into the focused scan field (a burst of keys
// and Enter), or from a kiosk calling window.wavefloorScan(code).
import {
  $, announce, banner, connect, endSession, field, focusScan, keepStation, newKey, pinLogin, sendCommand, serverLang,
  SESSION_ENDS, showLogin as showLoginForm, stationOrAsk, switchLanguage as switchStationLanguage, sounds, translateFixed,
  watchSession, wireScanField,
} from "/static/station.js";

const TEXTS = JSON.parse(document.getElementById("texts").textContent);
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

const DONE_CODES = ["slot_complete", "tote_done"];

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

// --- log in ----------------------------------------------------------------------------------
function showLogin() {
  showLoginForm(page.station);
  if (!$("user").value) $("user").value = body.user || "";
  ($("user").value ? $("pin") : $("user")).focus();
}

async function login(event) {
  event.preventDefault();
  const station = stationOrAsk(page.station, t("no_station"));
  if (!station) return;
  const answer = await pinLogin(station, page.lang);
  if (!answer) return;
  page.station = station;
  keepStation(station, "wf.putwall.station");
  page.token = answer.token;
  page.sessionToken = false;
  sessionStorage.setItem(tokenKey(), answer.token);
  $("who").textContent = answer.user?.name || "";
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
  showLogin();
  if (ended) { banner("error", ended.text, ended.code); sounds.error(); }
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
  const socket = connect(page.station, page.token, () => page.lang);
  page.socket = socket;
  socket.on("connect", drawLink);
  socket.on("disconnect", drawLink);
  watchSession(socket, { ended: (ended) => leave(ended), refused: logout, current: () => page.socket,
                         lang: () => page.lang });
  socket.on("snapshot", (snapshot) => {
    page.version = snapshot.version;
    if (snapshot.user) $("who").textContent = snapshot.user.name;
    const { state, ...data } = snapshot.putwall || { state: "scan_tote", station: page.station };
    render(state, data);
  });
  socket.on("putwall.progress", progressed);
  focusScan();
}

function command(action, params = {}, onAnswer = answer) {
  const request = { key: newKey(), scenario: "putwall", action, lang: serverLang(page.lang), ...params };
  return sendCommand(page.socket, request, { onAnswer, timeoutText: t("timeout") });
}

function answer(result) {
  if (SESSION_ENDS.includes(result.message?.code)) { leave(result.message); return; }
  announce(result, DONE_CODES);
  render(result.next_state, result.data[result.next_state] || {});
}

function switchLanguage() {
  switchStationLanguage(page, "wf.putwall.lang", { translate, command, ended: leave, render });
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

// --- wiring -------------------------------------------------------------------------------------
function wire() {
  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("lang").addEventListener("click", switchLanguage);
  wireScanField(handle);
  $("close").addEventListener("click", () => command("close"));
}

async function boot() {
  wire();
  translate();
  if (!page.station) $("station-code").value = localStorage.getItem("wf.putwall.station") || "";
  page.token = await findToken();
  if (page.token) start(); else showLogin();
}

boot();
