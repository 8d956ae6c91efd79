// The handheld: log in with a PIN, keep the scan field focused, show one screen per state of
// the scenario, and let the server decide every step. A user with several kinds of work (picking,
// receiving, putaway, replenishment, counting, QC) chooses one from a small menu; open work in the
// snapshot wins.
import { endSession, Floor, pinLogin, SESSION_ENDS } from "./floor.js";
import { h } from "./dom.js";
import { lang, serverLang, setLang, t } from "./i18n.js";
import { counting, startCounting } from "./count.js";
import { picking } from "./picking.js";
import { putaway } from "./putaway.js";
import { qc } from "./qc.js";
import { receiving } from "./receiving.js";
import { replenishing, startReplenishing } from "./replenish.js";
import { Scanner } from "./scanner.js";
import * as sounds from "./sounds.js";

const $ = (id) => document.getElementById(id);
const screen = $("screen");
const scanForm = $("scan-form");

const SCENARIOS = { picking, receiving, putaway, replenishing, counting, qc };
const MENU_ORDER = ["picking", "receiving", "putaway", "replenishing", "counting", "qc"];

// The choice of work, drawn as a scenario of its own with one state.
const menu = {
  name: "menu",
  states: {
    start: {
      render: () => [
        h("h1", {}, t("choose_work")),
        ...app.kinds.map((name) => h("div.row", {}, h("button.primary", { type: "button", "data-testid": `menu-${name}`,
                                                                          onclick: () => choose(name) }, t(`menu_${name}`)))),
      ],
    },
  },
  scan() {},
  onEvent() {},
  fromSnapshot: () => ({ state: "start", data: {} }),
};

const app = {
  scenario: picking,
  kinds: ["picking"],  // the scenarios this user's snapshot offers
  chosen: null,  // the scenario the user chose from the menu (kept over reconnects)
  snapshot: null,
  state: "start",
  data: {},
  message: null,
  dialog: null,
  floor: null,
  answers: 0,  // answers applied so far (lets a test or a technician see the device is caught up)
  user: JSON.parse(localStorage.getItem("wf.user") || "null"),
  notice: null,  // why the login screen is shown: {code, text} of the session that ended
  link: { online: false, queued: 0 },  // the pill's last word, drawn again in a language switch
  toteExample: localStorage.getItem("wf.tote_example") || "",  // what a tote code looks like here
};

// What a state's screen may ask of the app.
const ui = {
  send(action, params = {}) { app.floor.send({ scenario: app.scenario.name, action, ...params }); },
  waiting(action) { return app.floor.queue.some((c) => c.action === action); },
  button(word, onclick, kind = "") {
    return h(kind ? `button.${kind}` : "button", { type: "button", "data-testid": word, onclick }, t(word));
  },
  toteExample() { return app.toteExample; },
  dialog(draw) { app.dialog = draw; render(); },
  closeDialog() { closeDialog(); },
  // back to the choice of work, for a user with more than one kind
  menuButton() {
    return app.kinds.length > 1 ? h("button.small", { type: "button", "data-testid": "menu", onclick: () => choose(null) },
                                    t("menu")) : null;
  },
  // An event's message ({code, text: {en, "zh-CN"}}) in the device's language.
  notify(payload, type, extra = "") {
    const words = payload.text || {};
    app.message = { type, code: payload.code, text: `${words[serverLang()] || words.en || ""}${extra}` };
    sounds.forMessage(app.message);
    render();
  },
  // Typed quantities count the item scanned (the server refuses one before the first scan);
  // the dialog names that item.
  qtyDialog(line) {
    app.dialog = () => {
      const input = h("input", { type: "number", min: "0", max: String(line.remaining), inputmode: "numeric",
                                 "data-testid": "qty-input", value: String(line.counted || "") });
      const done = (event) => {
        event.preventDefault();
        const qty = Number.parseInt(input.value, 10);
        closeDialog();
        if (Number.isInteger(qty)) ui.send("qty", { qty });
      };
      setTimeout(() => input.focus(), 0);
      return h("form.card", { onsubmit: done },
        h("p.detail", {}, t("counting")), h("div.big", { "data-testid": "qty-sku" }, line.sku),
        h("div.item-name", {}, line.name),
        h("label", {}, `${t("set_qty")} (≤ ${line.remaining})`), input,
        h("div.row", {}, h("button.primary", { type: "submit" }, t("ok")),
          h("button", { type: "button", onclick: closeDialog }, t("cancel"))));
    };
    render();
  },
  shortDialog() {
    app.dialog = () => h("div.card", {}, h("h1", {}, t("short_reason")),
      ...Object.entries(t("reasons")).map(([code, words]) => h("div.row", {},
        h("button.warn", { type: "button", "data-testid": `reason-${code}`,
                           onclick: () => { closeDialog(); ui.send("short", { reason: code }); } }, words))),
      h("div.row", {}, h("button", { type: "button", onclick: closeDialog }, t("cancel"))));
    render();
  },
};

// Which scenario the screen shows: open work first (a receipt, a plate in hand, a pick task),
// else the one chosen, else the only one there is, else the menu.
function scenarioFor(snapshot) {
  app.kinds = MENU_ORDER.filter((name) => snapshot[name]);
  if (!app.kinds.length) app.kinds = ["picking"];
  const busy = ["receiving", "putaway", "replenishing", "counting", "picking"].find((name) => snapshot[name] && snapshot[name].state
    && !["start", "task_done"].includes(snapshot[name].state));
  if (busy) return SCENARIOS[busy];
  if (app.chosen && app.kinds.includes(app.chosen)) return SCENARIOS[app.chosen];
  return app.kinds.length === 1 ? SCENARIOS[app.kinds[0]] : menu;
}

function choose(name) {
  app.chosen = name;
  app.scenario = name ? SCENARIOS[name] : menu;
  app.state = "start";
  app.data = {};
  app.message = null;
  const part = name && app.snapshot ? app.scenario.fromSnapshot(app.snapshot) : null;
  if (part) {
    app.state = part.state;
    app.data = part.data;
  } else if (app.scenario.startData) {
    app.data = app.scenario.startData(app.snapshot);
  }
  if (name === "putaway" && app.state === "start") ui.send("get_work");
  if (name === "replenishing" && app.state === "start") startReplenishing(ui);
  if (name === "counting" && app.state === "start") startCounting(ui);
  render();
}

function closeDialog() {
  app.dialog = null;
  render();
}

function render() {
  $("lang").textContent = lang() === "en" ? "中文" : "EN";
  $("camera").textContent = t("camera");
  renderLink();
  const message = $("message");  // the login screen shows none: its own notice says why it is shown
  const shown = app.user ? app.message : null;
  message.className = `message ${shown ? shown.type : ""}`;
  message.textContent = shown ? shown.text : "";
  message.dataset.code = shown ? shown.code : "";
  message.hidden = !app.user;
  if (!app.user) return renderLogin();
  $("who").textContent = `${app.user.name} · ${localStorage.getItem("wf.device") || ""}`;
  scanForm.hidden = false;
  const state = app.scenario.states[app.state] || app.scenario.states.start;
  screen.dataset.state = app.state;
  const logoutRow = h("div.row", {}, h("button.small", { type: "button", "data-testid": "logout", onclick: askLogout },
                                       t("logout")));
  screen.replaceChildren(...[app.dialog ? app.dialog() : [state.render(app.data, ui), logoutRow]].flat(2)
    .filter(Boolean));
}

function renderLink() {
  const link = $("link");
  const { online, queued } = app.link;
  link.hidden = !app.user;
  link.className = `link ${online ? "online" : "offline"}`;
  const word = t(online ? "online" : "offline");
  link.textContent = queued ? `${word} · ${t("queued", queued)}` : word;
  link.dataset.queued = String(queued);
  link.dataset.online = String(online);
}

// Units counted but not in a tote yet are in the picker's hand: logging out leaves them there,
// so the picker is asked first.
function askLogout() {
  const inHand = (app.data.line && app.data.line.counted) || 0;
  if (!inHand) return logout({ forget: true, revoke: true });
  app.dialog = () => h("div.card", { "data-testid": "logout-dialog" }, h("p.item-name", {}, t("in_hand", inHand)),
    h("div.row", {}, h("button.warn", { type: "button", "data-testid": "logout-confirm",
                                         onclick: () => logout({ forget: true, revoke: true }) }, t("logout_anyway")),
      h("button", { type: "button", "data-testid": "logout-cancel", onclick: closeDialog }, t("cancel"))));
  render();
}

function renderLogin() {
  scanForm.hidden = true;
  screen.dataset.state = "login";
  $("who").textContent = "Wavefloor";
  const device = localStorage.getItem("wf.device") || `HH-${Math.floor(Math.random() * 900 + 100)}`;
  const fields = {
    user: h("input", { name: "user", autocomplete: "username", "data-testid": "login-user" }),
    pin: h("input", { name: "pin", type: "password", inputmode: "numeric", autocomplete: "current-password",
                      "data-testid": "login-pin" }),
    device: h("input", { name: "device", value: device, "data-testid": "login-device" }),
  };
  const error = h("p.message", { "data-testid": "login-error" });
  if (app.notice) {
    error.className = "message error";
    error.textContent = app.notice.text || "";
    error.dataset.code = app.notice.code || "";
  }
  const submit = async (event) => {
    event.preventDefault();
    try {
      const answer = await pinLogin(fields.user.value.trim(), fields.pin.value, fields.device.value.trim(),
                                    lang() === "en" ? "en" : "zh-CN");
      localStorage.setItem("wf.token", answer.token);
      localStorage.setItem("wf.device", fields.device.value.trim());
      localStorage.setItem("wf.user", JSON.stringify(answer.user));
      app.user = answer.user;
      app.notice = null;
      // the user's language, unless the picker chose one on this device
      if (answer.user.language && !localStorage.getItem("wf.lang.chosen")) {
        setLang(answer.user.language.startsWith("en") ? "en" : "zh");
      }
      start(answer.token);
    } catch (failure) {
      error.className = "message error";
      error.dataset.code = failure.code;
      error.textContent = failure.code === "locked_out" ? t("locked_out")
        : failure.code === "bad_credentials" ? t("login_failed") : failure.message || t("login_failed");
      sounds.error();
    }
  };
  screen.replaceChildren(h("form.card", { onsubmit: submit },
    h("h1", {}, t("login")),
    h("label", {}, t("user")), fields.user,
    h("label", {}, t("pin")), fields.pin,
    h("label", {}, t("device")), fields.device,
    h("div.row", {}, h("button.primary", { type: "submit", "data-testid": "login-submit" }, t("login")))), error);
  fields.user.focus();
}

function apply(answer, command = {}) {
  if (!answer || typeof answer !== "object") return;
  // "where am I" (after a language switch or an event) redraws the screen and keeps its message
  const quiet = command.action === "current" && answer.ok;
  const task = answer.data && answer.next_state && answer.data[answer.next_state] && answer.data[answer.next_state].task;
  if (task && task.tote_example) rememberToteExample(task.tote_example);
  if (answer.message && !quiet) {
    app.message = answer.message;
    sounds.forMessage(answer.message);
  }
  if (answer.message && answer.message.code === "unauthorized") return logout();
  if (answer.message && SESSION_ENDS.includes(answer.message.code)) return logout({ notice: answer.message });
  if (command.scenario && command.scenario !== app.scenario.name) return render();  // another screen's answer
  if (answer.next_state && answer.next_state in app.scenario.states) {
    app.state = answer.next_state;
    app.data = (answer.data && answer.data[answer.next_state]) || {};
  }
  render();
}

function rememberToteExample(code) {
  app.toteExample = code;
  localStorage.setItem("wf.tote_example", code);
}

function start(token) {
  app.floor?.close();
  app.floor = new Floor({
    language: serverLang,
    onSnapshot(snapshot) {
      app.snapshot = snapshot;
      const chosen = scenarioFor(snapshot);
      if (chosen !== app.scenario && !app.floor.queue.length) {
        app.scenario = chosen;
        app.state = "start";
        app.data = {};
      }
      const part = app.scenario.fromSnapshot(snapshot);
      if (part?.data?.task?.tote_example) rememberToteExample(part.data.task.tote_example);
      if (part && !app.floor.queue.length) {  // queued commands' answers are newer than this
        app.state = part.state;
        app.data = part.data;
        app.scenario.afterSnapshot?.(app.state, ui);
      }
      render();
    },
    onEvent(event, payload) { app.scenario.onEvent(event, app.state, ui, payload || {}); },
    onAnswer(command, answer) {
      app.answers += 1;
      apply(answer, command);
    },
    onLink(online, queued) {
      app.link = { online, queued };
      renderLink();
    },
    onRefused() { logout(); },
    onEnded(payload) {
      sounds.error();
      logout({ notice: { code: payload.code, text: payload.text } });
    },
  });
  window.handheld = app;
  app.floor.connect(token);
  render();
}

// Scans still waiting stay queued unless the picker logs out on purpose; logging out on purpose
// also ends the session on the server (``revoke``), so the next picker may log in on this device.
// ``notice`` ({code, text}) says on the login screen why the session ended.
function logout({ forget = false, revoke = false, notice = null } = {}) {
  app.floor?.close();
  if (forget) app.floor?.forget();
  if (revoke) endSession(localStorage.getItem("wf.token"));
  app.floor = null;
  app.user = null;
  app.scenario = picking;
  app.chosen = null;
  app.snapshot = null;
  app.notice = notice;
  app.state = "start";
  app.data = {};
  app.message = null;
  app.dialog = null;
  app.link = { online: false, queued: 0 };
  localStorage.removeItem("wf.token");
  localStorage.removeItem("wf.user");
  render();
}

const scanner = new Scanner({
  form: scanForm,
  input: $("scan"),
  onScan(code) {
    if (app.dialog || !app.floor) return;
    app.scenario.scan(code, ui, app.state);
  },
});

$("camera").addEventListener("click", async () => {
  try {
    if (scanner.camera) scanner.stopCamera($("camera-view"));
    else await scanner.startCamera($("camera-video"), $("camera-view"));
  } catch {
    app.message = { type: "error", code: "camera", text: t("camera_unavailable") };
    sounds.error();
    render();
  }
});

// The server's sentences follow: the new language goes with the next command and reconnect, and
// the screen is asked for again so nothing stays in the language left behind.
$("lang").addEventListener("click", () => {
  setLang(lang() === "en" ? "zh" : "en");
  localStorage.setItem("wf.lang.chosen", "1");
  if (app.floor) {
    app.floor.languageChanged();
    app.message = null;
    // a state the device holds (the location chosen for a putaway) is only drawn again
    const held = (app.scenario.deviceStates || []).includes(app.state);
    if (!ui.waiting("current") && app.scenario !== menu && !held) ui.send("current");
  }
  render();
});

setLang(lang());
const saved = localStorage.getItem("wf.token");
if (saved && app.user) start(saved);
else render();
scanner.focus();
