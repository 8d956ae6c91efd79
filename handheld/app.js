// The picker's handheld: log in with a PIN, keep the scan field focused, show one screen per
// state of the scenario, and let the server decide every step.
import { endSession, Floor, pinLogin, SESSION_ENDS } from "./floor.js";
import { h } from "./dom.js";
import { lang, setLang, t } from "./i18n.js";
import { picking } from "./picking.js";
import { Scanner } from "./scanner.js";
import * as sounds from "./sounds.js";

const $ = (id) => document.getElementById(id);
const screen = $("screen");
const scanForm = $("scan-form");

const app = {
  scenario: picking,
  state: "start",
  data: {},
  message: null,
  dialog: null,
  floor: null,
  answers: 0,  // answers applied so far (lets a test or a technician see the device is caught up)
  user: JSON.parse(localStorage.getItem("wf.user") || "null"),
  notice: null,  // why the login screen is shown: {code, text} of the session that ended
};

// What a state's screen may ask of the app.
const ui = {
  send(action, params = {}) { app.floor.send({ scenario: app.scenario.name, action, ...params }); },
  waiting(action) { return app.floor.queue.some((c) => c.action === action); },
  button(word, onclick, kind = "") {
    return h(kind ? `button.${kind}` : "button", { type: "button", "data-testid": word, onclick }, t(word));
  },
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
      return h("form.card", { onsubmit: done }, h("label", {}, `${t("set_qty")} (≤ ${line.remaining})`), input,
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

function closeDialog() {
  app.dialog = null;
  render();
}

function render() {
  $("lang").textContent = lang() === "en" ? "中文" : "EN";
  $("camera").textContent = t("camera");
  if (!app.user) return renderLogin();
  $("who").textContent = `${app.user.name} · ${localStorage.getItem("wf.device") || ""}`;
  scanForm.hidden = false;
  const state = app.scenario.states[app.state] || app.scenario.states.start;
  screen.dataset.state = app.state;
  screen.replaceChildren(...[app.dialog ? app.dialog() : state.render(app.data, ui)].flat().filter(Boolean),
                         h("div.row", {}, h("button.small", { type: "button", onclick: () => logout({ forget: true, revoke: true }) }, t("logout"))));
  const message = $("message");
  message.className = `message ${app.message ? app.message.type : ""}`;
  message.textContent = app.message ? app.message.text : "";
  message.dataset.code = app.message ? app.message.code : "";
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
      if (answer.user.language) setLang(answer.user.language.startsWith("en") ? "en" : "zh");
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

function apply(answer) {
  if (!answer || typeof answer !== "object") return;
  if (answer.message) {
    app.message = answer.message;
    sounds.forMessage(answer.message);
  }
  if (answer.message && answer.message.code === "unauthorized") return logout();
  if (answer.message && SESSION_ENDS.includes(answer.message.code)) return logout({ notice: answer.message });
  if (answer.next_state && answer.next_state in app.scenario.states) {
    app.state = answer.next_state;
    app.data = (answer.data && answer.data[answer.next_state]) || {};
  }
  render();
}

function start(token) {
  app.floor?.close();
  app.floor = new Floor({
    onSnapshot(snapshot) {
      const part = app.scenario.fromSnapshot(snapshot);
      if (part && !app.floor.queue.length) {  // queued commands' answers are newer than this
        app.state = part.state;
        app.data = part.data;
      }
      render();
    },
    onEvent(event, payload) { app.scenario.onEvent(event, app.state, ui); },
    onAnswer(_command, answer) {
      app.answers += 1;
      apply(answer);
    },
    onLink(online, queued) {
      const link = $("link");
      link.className = `link ${online ? "online" : "offline"}`;
      link.textContent = queued ? `${t(online ? "online" : "offline")} · ${t("queued", queued)}` : t(online ? "online" : "offline");
      link.dataset.queued = String(queued);
      link.dataset.online = String(online);
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
  app.notice = notice;
  app.state = "start";
  app.data = {};
  app.message = null;
  localStorage.removeItem("wf.token");
  localStorage.removeItem("wf.user");
  render();
}

const scanner = new Scanner({
  form: scanForm,
  input: $("scan"),
  onScan(code) {
    if (app.dialog || !app.floor) return;
    app.scenario.scan(code, ui);
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

$("lang").addEventListener("click", () => {
  setLang(lang() === "en" ? "zh" : "en");
  render();
});

setLang(lang());
const saved = localStorage.getItem("wf.token");
if (saved && app.user) start(saved);
else render();
scanner.focus();
