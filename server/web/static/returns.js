// The returns bench (退货台): every scan is a `returns` command over Socket.IO for this bench.
// The server answers with the bench's whole state; this page only draws it: the open parcel with
// its order's lines, the condition buttons for a scanned unit, the units received so far.
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
  lang: localStorage.getItem("wf.returns.lang") || body.lang || "zh",
  token: null,
  sessionToken: false,  // the token is the page session's (a kiosk that came with ?token=)
  socket: null,
  version: 0,
  state: null,
  notFound: "",  // the code the server found no order for: it may be kept as an unknown parcel
};

function t(key) { return (TEXTS[page.lang] || TEXTS.zh)[key] ?? key; }
function tokenKey() { return `wf.returns.${page.station}`; }

const DONE_CODES = ["parcel_done"];

function drawLink() {
  const on = Boolean(page.socket?.connected);
  $("link").textContent = t(on ? "online" : "offline");
  $("link").className = `link ${on ? "on" : "off"}`;
}

function translate() {
  translateFixed(t, page.lang);
  $("lang").textContent = t("lang");
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
  keepStation(station, "wf.returns.station");
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

// The bench's token: the one this tab got by PIN, else the page session's when it is the bench's.
async function findToken() {
  const kept = page.station ? sessionStorage.getItem(tokenKey()) : null;
  if (kept) return kept;
  if (!page.station || page.sessionStation !== page.station) return null;
  const response = await fetch("/returns/bench/socket-token", { credentials: "same-origin", cache: "no-store",
                                                                redirect: "manual" }).catch(() => null);
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
    const { state, data } = snapshot.returns || { state: "scan_parcel", data: { station: page.station } };
    render(state, data);
  });
  focusScan();
}

function command(action, params = {}, onAnswer = answer) {
  const request = { key: newKey(), scenario: "returns", action, lang: serverLang(page.lang), ...params };
  return sendCommand(page.socket, request, { onAnswer, timeoutText: t("timeout") });
}

function answer(result) {
  if (SESSION_ENDS.includes(result.message?.code)) { leave(result.message); return; }
  announce(result, DONE_CODES);
  render(result.next_state, result.data[result.next_state] || {});
}

function switchLanguage() {
  switchStationLanguage(page, "wf.returns.lang", { translate, command, ended: leave, render });
}

// --- scans ----------------------------------------------------------------------------------------
function handle(raw) {
  const code = String(raw ?? "").trim();
  if (!code || !page.token) return;
  command("scan", { code }, (result) => {
    page.notFound = !result.ok && result.message?.code === "return_not_found" ? code : "";
    answer(result);
  });
}
window.wavefloorScan = (code) => handle(code);

function choose(condition) {
  const item = page.state?.data?.item;
  if (!item) return;
  command("condition", { code: item.code, condition });
}

function keepUnknown() {
  const code = page.notFound;
  page.notFound = "";
  command("open_unknown", { code, note: $("unknown-note").value.trim() });
  $("unknown-note").value = "";
}

// --- drawing the state ----------------------------------------------------------------------------
function render(name, data) {
  page.state = { name, data };
  $("panel").dataset.state = name;
  $("prompt").textContent = t(name);
  const parcel = data.parcel;
  drawParcel(parcel);
  drawLines(parcel?.lines || [], parcel);
  drawUnits(parcel?.units || []);
  $("conditions").hidden = name !== "condition";
  if (name === "condition" && data.item) {
    $("item").textContent = `${data.item.sku} ${data.item.name}${data.item.qty > 1 ? ` × ${data.item.qty}` : ""}`;
  }
  $("unknown-box").hidden = !(name === "scan_parcel" && page.notFound);
  $("search-form").hidden = name !== "scan_parcel";
  drawFound(name === "scan_parcel" ? data.found : null);
  $("close").hidden = !parcel;
  $("note-form").hidden = !parcel;
  if (parcel && document.activeElement !== $("note")) $("note").value = parcel.note || "";
  focusScan();
}

function drawParcel(parcel) {
  $("parcel").hidden = !parcel;
  if (!parcel) return;
  const boxes = [field(t("parcel"), parcel.code, "code")];
  if (parcel.unknown) boxes.push(field(t("order"), t("unknown_parcel"), "unknown"));
  else boxes.push(field(t("order"), `${parcel.order.external_id} · ${parcel.order.shop}`, "order"));
  if (parcel.tracking) boxes.push(field(t("tracking"), parcel.tracking, "tracking"));
  $("parcel").replaceChildren(...boxes);
}

function drawLines(lines) {
  $("lines").hidden = !lines.length;
  $("lines").querySelector("tbody").replaceChildren(...lines.map((line) => {
    const row = document.createElement("tr");
    row.dataset.sku = line.sku;
    row.className = line.returned >= line.qty ? "done" : "";
    const cells = [line.sku, line.name, `${line.returned} / ${line.qty}`,
                   line.refund_status === "none" ? "" : `${line.refund_status} ${(line.refund_fen / 100).toFixed(2)}`];
    cells.forEach((value, index) => {
      const cell = document.createElement("td");
      cell.textContent = value;
      if (index === 2) cell.className = "n count";
      row.append(cell);
    });
    return row;
  }));
}

function drawUnits(units) {
  $("units-box").hidden = !units.length;
  $("units").replaceChildren(...units.map((unit) => {
    const item = document.createElement("li");
    item.className = `unit ${unit.condition}`;
    item.textContent = `${unit.sku} × ${unit.qty} · ${t(`cond_${unit.condition}`)}`;
    return item;
  }));
}

// Orders found by the buyer (masked unless the user may read buyers' data): opening one is as
// if its number had been scanned.
function drawFound(found) {
  $("found").hidden = !found;
  if (!found) return;
  $("found").querySelector("tbody").replaceChildren(...found.map((order) => {
    const row = document.createElement("tr");
    for (const value of [order.external_id, order.buyer_nick, order.receiver_name, order.receiver_phone]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    const cell = document.createElement("td");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "small";
    open.textContent = t("open");
    open.addEventListener("click", () => handle(order.external_id));
    cell.append(open);
    row.append(cell);
    return row;
  }));
}

// --- wiring -------------------------------------------------------------------------------------
function wire() {
  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("lang").addEventListener("click", switchLanguage);
  wireScanField(handle);
  for (const button of document.querySelectorAll("button.cond")) {
    button.addEventListener("click", () => choose(button.dataset.condition));
  }
  $("unknown").addEventListener("click", keepUnknown);
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("search").value.trim();
    if (text.length >= 2) command("search", { text });
    $("search").blur();
  });
  $("close").addEventListener("click", () => command("close"));
  $("note-form").addEventListener("submit", (event) => {
    event.preventDefault();
    command("note", { note: $("note").value.trim() });
    $("note").blur();
  });
}

async function boot() {
  wire();
  translate();
  if (!page.station) $("station-code").value = localStorage.getItem("wf.returns.station") || "";
  page.token = await findToken();
  if (page.token) start(); else showLogin();
}

boot();
