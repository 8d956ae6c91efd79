// The packing station (打包台): PIN login for this station, then every scan is a `packing`
// command over Socket.IO. The server answers with the station's whole state; this page only
// draws it. Scans come from a keyboard-wedge scanner typing into the focused scan field, or
// from the kiosk calling window.wavefloorScan(code) (camera, scan pipe).
import {
  $, banner, connect, endSession, field, focusScan, keepStation as keepStationIn, pinLogin, showLogin as showLoginForm,
  sounds, stationCommands, stationOrAsk, translateFixed, watchSession, wireScanField,
} from "/static/station.js";

const TEXT = {
  zh: {
    offline: "离线", online: "在线", logout: "退出", login_title: "打包台登录", user: "工号", pin: "PIN",
    station: "打包台", login: "登录", scan_here: "扫描条码…", sku: "商品编码", item: "商品", checked: "已验/应验",
    grams: "克", weigh: "称重", ship: "发货", reprint: "补打面单", put_aside: "挂起",
    scan_order: "请扫描周转箱、订单号或运单号", verify: "请逐件扫描商品", weigh_prompt: "请称重",
    ship_prompt: "称重通过，请发货", waiting: "待打包订单", order: "订单", carrier: "快递",
    receiver: "收件人", label_queued: "面单排队中…", label_sending: "面单打印中…", label_done: "面单已打印",
    label_failed: "面单打印失败", label_checked: "面单已核对", expected: "预计", band: "允许范围",
    measured: "实称", no_station: "请输入打包台编码", message: "留言", memo: "备注",
    camera: "摄像头", timeout: "服务器无响应，请重试", lang: "EN",
  },
  en: {
    offline: "offline", online: "online", logout: "Log out", login_title: "Packing station login", user: "User",
    pin: "PIN", station: "Station", login: "Log in", scan_here: "Scan a code…", sku: "SKU", item: "Item",
    checked: "Checked", grams: "grams", weigh: "Weigh", ship: "Ship", reprint: "Reprint label",
    put_aside: "Put aside", scan_order: "Scan a tote, an order number or a tracking number",
    verify: "Scan every item", weigh_prompt: "Weigh the parcel", ship_prompt: "Weight checked: ship it",
    waiting: "orders waiting", order: "Order", carrier: "Carrier", receiver: "Receiver",
    label_queued: "Label queued…", label_sending: "Label printing…", label_done: "Label printed",
    label_failed: "Label failed to print", label_checked: "Label checked", expected: "expected",
    band: "allowed", measured: "weighed", no_station: "Type the station's code",
    message: "Buyer message", memo: "Memo", camera: "camera", timeout: "The server did not answer; try again",
    lang: "中文",
  },
};
const WEIGHT = /^(\d+(?:\.\d+)?)\s*(g|kg)$/i;  // a scale on the scan pipe sends "812g" or "0.812kg"

const page = {
  station: document.body.dataset.station || "",
  lang: localStorage.getItem("wf.pack.lang") || document.body.dataset.lang || "zh",
  token: null,
  socket: null,
  version: 0,
  state: null,
  watching: null,
};

function t(key) { return (TEXT[page.lang] || TEXT.zh)[key] ?? key; }
const carrierName = (named) => (page.lang === "en" && named.carrier_name_en) || named.carrier_name;

// --- translation of the fixed text --------------------------------------------------------------
function translate() {
  translateFixed(t, page.lang);
  $("lang").textContent = t("lang");
  if (page.state) render(page.state.name, page.state.data);
}

// --- log in -------------------------------------------------------------------------------------
function showLogin() {
  showLoginForm(page.station);
  $("user").focus();
}

async function login(event) {
  event.preventDefault();
  const station = stationOrAsk(page.station, t("no_station"));
  if (!station) return;
  const answer = await pinLogin(station, page.lang);
  if (!answer) return;
  keepStation(station);
  page.token = answer.token;
  sessionStorage.setItem(`wf.pack.${page.station}`, answer.token);
  if (answer.user?.language && !localStorage.getItem("wf.pack.lang")) {
    page.lang = answer.user.language.toLowerCase().startsWith("en") ? "en" : "zh";
    translate();
  }
  $("who").textContent = answer.user?.name || "";
  banner("", "");
  start();
}

// The station typed in the form stays in the address (as if opened with ?station=) and in this
// browser: a reload comes back to the same station and, with its token, to its open order.
function keepStation(station) {
  page.station = station;
  keepStationIn(station, "wf.pack.station");
}

function logout() {
  endSession(page.token);
  leave();
}

function leave() {
  sessionStorage.removeItem(`wf.pack.${page.station}`);
  page.token = null;
  page.socket?.disconnect();
  page.socket = null;
  showLogin();
}

// The server ended the station's session: the login again, with the reason on the banner.
function sessionEnded(ended) {
  leave();
  banner("error", ended.text, ended.code);
  sounds.error();
}

// --- the connection -------------------------------------------------------------------------------
function start() {
  const socket = connect(page.station, page.token, () => page.lang);
  page.socket = socket;
  socket.on("connect", () => { $("link").textContent = t("online"); $("link").className = "link on"; });
  socket.on("disconnect", () => { $("link").textContent = t("offline"); $("link").className = "link off"; });
  watchSession(socket, { ended: sessionEnded, refused: logout, current: () => page.socket,
                         lang: () => page.lang });
  socket.on("snapshot", (snapshot) => {
    page.version = snapshot.version;
    if (snapshot.user) $("who").textContent = snapshot.user.name;
    const packing = snapshot.packing || { state: "scan_order", station: page.station };
    const { state, ...data } = packing;
    render(state, data);
  });
  socket.on("station.queue", (event) => {
    if (event.version < page.version) return;  // older than what is shown
    page.version = event.version;
    const { state, version, ...data } = event;
    render(state, data);
  });
  focusScan();
}

const { command, switchLanguage } = stationCommands(page, {
  scenario: "packing", langKey: "wf.pack.lang", doneCodes: ["label_queued", "order_shipped", "weight_ok"], t, translate,
  render, ended: sessionEnded });

// --- scans ----------------------------------------------------------------------------------------
function handle(raw) {
  const code = String(raw ?? "").trim();
  if (!code || !page.token) return;
  const weight = WEIGHT.exec(code);
  if (weight) {
    const grams = Math.round(parseFloat(weight[1]) * (weight[2].toLowerCase() === "kg" ? 1000 : 1));
    command("weight", { grams });
    return;
  }
  command("scan", { code });
}
window.wavefloorScan = (code) => handle(code);
window.wavefloorCamera = (status) => {
  const el = $("camera");
  el.hidden = !status || status.status === "off";
  el.textContent = status ? `${t("camera")}: ${status.status}` : "";
  el.className = `camera ${status?.status === "running" ? "on" : "off"}`;
};

// --- drawing the state ----------------------------------------------------------------------------
function render(name, data) {
  page.state = { name, data };
  const panel = $("panel");
  panel.dataset.state = name;
  const prompts = { scan_order: "scan_order", verify: "verify", weigh: "weigh_prompt", ship: "ship_prompt" };
  $("prompt").textContent = t(prompts[name] || "scan_order")
    + (name === "scan_order" && data.waiting != null ? ` · ${data.waiting} ${t("waiting")}` : "");
  const order = data.order;
  $("order").hidden = !order;
  if (order) {
    $("order").replaceChildren(
      field(t("order"), order.number, "number"), field(t("carrier"), carrierName(order)),
      field(t("receiver"), `${order.receiver} · ${order.province}${order.city}`),
      ...(order.buyer_message ? [field(t("message"), order.buyer_message, "note")] : []),
      ...(order.seller_memo ? [field(t("memo"), order.seller_memo, "note")] : []),
    );
  }
  const lines = data.lines || [];
  const rows = () => [...$("lines").tBodies[0].rows];
  const before = Object.fromEntries(rows().map((row) => [row.dataset.sku, row.dataset.verified]));
  $("lines").hidden = !lines.length;
  $("lines").tBodies[0].replaceChildren(...lines.map((line) => {
    const row = document.createElement("tr");
    row.className = line.verified >= line.expected ? "line done" : "line";
    row.dataset.sku = line.sku;
    row.dataset.verified = String(line.verified);
    row.append(cell(line.sku, "sku"), cell(`${line.name} ${line.spec || ""}`.trim()),
      cell(`${line.verified} / ${line.expected}`, "n count"));
    return row;
  }));
  // the line a scan just counted is in sight, however long the order's list
  const counted = rows().find((row) => row.dataset.sku in before && before[row.dataset.sku] !== row.dataset.verified);
  counted?.scrollIntoView({ block: "nearest" });
  const weight = data.weight || {};
  $("weigh").hidden = !(name === "weigh" || name === "ship");
  $("weight-band").textContent = weight.expected_g
    ? `${t("expected")} ${weight.expected_g} g · ${t("band")} ${weight.low_g}–${weight.high_g} g`
      + (weight.measured_g ? ` · ${t("measured")} ${weight.measured_g} g` : "")
    : (weight.measured_g ? `${t("measured")} ${weight.measured_g} g` : "");
  $("ship").hidden = name !== "ship";
  $("reprint").hidden = !data.label;
  $("close").hidden = !order;
  showLabel(data.label);
  focusScan();
}

function cell(text, kind = "") {
  const td = document.createElement("td");
  td.className = kind;
  td.textContent = text;
  return td;
}

// The label's way to the printer: the job is polled until it is done or failed.
function showLabel(label) {
  const box = $("label-status");
  box.hidden = !label;
  if (!label) { page.watching = null; return; }
  drawLabel(label.job_state, label);
  if (page.watching !== label.job && !["done", "failed", "cancelled"].includes(label.job_state)) {
    page.watching = label.job;
    watchJob(label);
  }
}

function drawLabel(state, label) {
  const box = $("label-status");
  const key = { queued: "label_queued", sending: "label_sending", done: "label_done", failed: "label_failed" }[state]
    || "label_queued";
  box.dataset.state = state || "queued";
  box.textContent = `${t(key)} · ${carrierName(label)} ${label.tracking}` + (label.confirmed ? ` · ${t("label_checked")} ✓` : "");
}

async function watchJob(label) {
  for (let tries = 0; tries < 120 && page.watching === label.job; tries += 1) {
    const response = await fetch(`/api/v1/print-jobs/${label.job}`, { headers: { Authorization: `Bearer ${page.token}` } })
      .catch(() => null);
    const job = response && response.ok ? await response.json() : null;
    if (job && page.watching === label.job) {
      drawLabel(job.state, label);
      if (job.state === "failed") { banner("error", t("label_failed"), "label_failed"); sounds.error(); }
      if (["done", "failed", "cancelled"].includes(job.state)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

// --- wiring -------------------------------------------------------------------------------------
function wire() {
  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("lang").addEventListener("click", switchLanguage);
  wireScanField(handle);
  $("weigh").addEventListener("submit", (event) => {
    event.preventDefault();
    const grams = parseInt($("grams").value, 10);
    $("grams").value = "";
    command("weight", { grams: Number.isFinite(grams) ? grams : 0 });
    $("grams").blur();
    focusScan();
  });
  $("ship").addEventListener("click", () => command("ship"));
  $("reprint").addEventListener("click", () => command("reprint"));
  $("close").addEventListener("click", () => command("close"));
}

async function kioskBridge() {
  const api = window.pywebview?.api;
  if (!api) return;
  if (!page.station && api.station) {
    page.station = await api.station();
    $("station").textContent = page.station;
    $("station-field").hidden = Boolean(page.station);
  }
  if (api.camera) window.wavefloorCamera(await api.camera());
  if (api.ready) api.ready();  // scans the kiosk held while the page loaded come now
}

wire();
translate();
window.addEventListener("pywebviewready", kioskBridge);
if (window.pywebview?.api) kioskBridge();
if (!page.station) $("station-code").value = localStorage.getItem("wf.pack.station") || "";
page.token = page.station ? sessionStorage.getItem(`wf.pack.${page.station}`) : null;
if (page.token) start(); else showLogin();
