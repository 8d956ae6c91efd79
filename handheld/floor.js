// The link to the server: PIN login, Socket.IO /floor, and the offline queue.
//
// Every command gets its key (time-ordered, keys.js) when the picker makes it and is stored in
// localStorage before it is sent. Commands go out one at a time, in order, only while the
// socket is connected; a command leaves the queue when its answer has come back. A scan
// made in a dead zone waits in the queue and is sent on reconnect; if an answer was lost,
// sending the same key again returns the stored answer and changes nothing on the server.
import { newKey } from "/static/keys.js";
import { io } from "/static/vendor/socket.io.esm.min.js";

const QUEUE = "wf.queue";
const ANSWER_TIMEOUT_MS = 10000;

export async function pinLogin(user, pin, device, language = "zh-CN") {
  const response = await fetch("/api/v1/auth/pin", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept-Language": language },
    body: JSON.stringify({ user, pin, device }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.message || response.statusText);
    error.code = body.code || "error";
    throw error;
  }
  return body;
}

// Revoke the token on the server (a logout on purpose): the device is free for the next user.
export function endSession(token) {
  if (!token) return Promise.resolve();
  return fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } })
    .catch(() => {});
}

// The codes with which the server ends a session (event session.ended, or a command's answer).
export const SESSION_ENDS = ["logged_out", "session_expired", "role_changed", "user_deactivated", "device_released"];

// The event in the device's language: it carries the sentence in each (``texts``), since a
// session may be ended by a server process that does not know this device's language.
export function inLanguage(payload, language) {
  const ended = payload || {};
  return { ...ended, text: ended.texts?.[language] || ended.text };
}

// ``language()`` is the device's language ("en" or "zh-CN"): it goes with the connect and with
// every command, so the server's sentences arrive in it.
export class Floor {
  constructor({ onSnapshot, onEvent, onAnswer, onLink, onRefused, onEnded, language = () => "zh-CN" }) {
    this.handlers = { onSnapshot, onEvent, onAnswer, onLink, onRefused, onEnded };
    this.language = language;
    this.socket = null;
    this.flushing = false;
    this.queue = JSON.parse(localStorage.getItem(QUEUE) || "[]");
  }

  connect(token) {
    this.socket = io("/floor", { auth: { token, lang: this.language() }, transports: ["websocket"],
                                 reconnectionDelayMax: 3000 });
    this.socket.on("connect", () => { this.link(); this.flush(); });
    this.socket.on("disconnect", () => this.link());
    this.socket.on("connect_error", (error) => {
      this.link();
      if (error && error.message === "unauthorized") this.handlers.onRefused?.("unauthorized");
      else if (this.socket && !this.socket.active) {  // refused for now (the server's database away): again soon
        const socket = this.socket;
        setTimeout(() => { if (this.socket === socket) socket.connect(); }, 3000);
      }
    });
    this.socket.on("snapshot", (state) => this.handlers.onSnapshot?.(state));
    // the session ended (logout elsewhere, expiry, a change of roles, a release): the server
    // closes the socket a moment later
    this.socket.on("session.ended", (payload) => this.handlers.onEnded?.(inLanguage(payload, this.language())));
    this.socket.onAny((event, payload) => {
      if (event !== "snapshot" && event !== "session.ended") this.handlers.onEvent?.(event, payload);
    });
  }

  // The picker chose another language: a reconnect says so too (the commands carry it anyway).
  languageChanged() {
    if (this.socket) this.socket.auth = { ...this.socket.auth, lang: this.language() };
  }

  get online() { return Boolean(this.socket && this.socket.connected); }

  link() { this.handlers.onLink?.(this.online, this.queue.length); }

  // Queue a command (its key is made now, once) and send whatever the link allows.
  send(command) {
    this.queue.push({ key: newKey(), ...command });
    this.save();
    this.link();
    this.flush();
  }

  save() { localStorage.setItem(QUEUE, JSON.stringify(this.queue)); }

  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length && this.online) {
        const command = this.queue[0];
        let answer;
        try {
          answer = await this.socket.timeout(ANSWER_TIMEOUT_MS).emitWithAck("cmd", { ...command, lang: this.language() });
        } catch {
          break; // no answer (the link dropped): the same key goes again on reconnect
        }
        this.queue.shift();
        this.save();
        this.link();
        this.handlers.onAnswer?.(command, answer);
      }
    } finally {
      this.flushing = false;
    }
    if (this.queue.length && this.online) this.flush();
  }

  // For the field technician's console (and tests): cut the link and bring it back.
  drop() { this.socket?.disconnect(); this.link(); }
  restore() { this.socket?.connect(); }

  close() {
    this.socket?.disconnect();
    this.socket = null;
  }

  forget() {
    this.queue = [];
    this.save();
  }
}
