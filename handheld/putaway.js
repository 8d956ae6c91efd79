// The putaway scenario (上架): one entry per server state (server/services/scenarios/putaway.py).
// Scan a licence plate, walk to the location the server suggests, scan it (or another, with a
// reason), confirm the quantity.
import { h } from "./dom.js";
import { t } from "./i18n.js";

const REASONS = ["location_full", "location_blocked", "closer", "other"];

function codeBlock(code, testid) {
  const px = Math.min(64, Math.floor(330 / (0.66 * Math.max(String(code).length, 1))));
  return h("div.huge.code", { "data-testid": testid, style: `font-size:${px}px` }, code);
}

function plateCard(lpn) {
  return h("div.card.detail", { "data-testid": "lpn" },
    h("div", {}, h("b", {}, lpn.sku), ` × ${lpn.qty} · ${lpn.name}`),
    h("div", {}, h("span.code", { "data-testid": "lpn-sscc" }, lpn.sscc)),
    lpn.lot || lpn.expiry ? h("div", {}, [lpn.lot ? `${t("lot")} ${lpn.lot}` : "",
                                          lpn.expiry ? `${t("expiry")} ${lpn.expiry}` : ""].filter(Boolean).join(" · "))
      : null);
}

function suggestion(suggested) {
  if (!suggested || !suggested.code) return [h("p.prompt", { "data-testid": "no-suggestion" }, t("no_suggestion"))];
  const metres = suggested.distance_m !== null && suggested.distance_m !== undefined ? ` · ${suggested.distance_m} m` : "";
  return [h("p.detail", {}, `${t("go_to")} (${t(`why_${suggested.why}`)}${metres})`),
          codeBlock(suggested.code, "suggested")];
}

function qtyDialog(data, ui) {
  ui.dialog(() => {
    const input = h("input", { type: "number", min: "1", inputmode: "numeric", "data-testid": "qty-input",
                               value: String(data.lpn.qty) });
    const done = (event) => {
      event.preventDefault();
      const qty = Number.parseInt(input.value, 10);
      ui.closeDialog();
      if (Number.isInteger(qty)) ui.send("qty", { qty, location: data.location, reason: data.reason || "" });
    };
    setTimeout(() => input.focus(), 0);
    return h("form.card", { onsubmit: done }, h("p.detail", {}, t("counted")), input,
      h("div.row", {}, h("button.primary", { type: "submit" }, t("ok")),
        h("button", { type: "button", onclick: () => ui.closeDialog() }, t("cancel"))));
  });
}

export const putaway = {
  name: "putaway",
  // states whose data (the location scanned, the reason) the device holds until it sends `qty`
  deviceStates: ["start", "reason", "confirm_qty"],

  states: {
    start: {
      render: (data, ui) => [
        h("h1", {}, t("put_away")),
        data.stored ? h("div.card", { "data-testid": "stored" },
          `${t("stored_at")} `, h("b.code", {}, data.stored.location), ` · ${data.stored.sku} × ${data.stored.qty}`) : null,
        h("p.prompt", { "data-testid": "prompt" }, t("scan_lpn")),
        data.waiting && data.waiting.length ? h("div.card.detail", { "data-testid": "waiting" },
          ...data.waiting.map((w) => h("div.line", { "data-testid": `waiting-${w.sscc}` },
            h("span.code", {}, `…${w.sscc.slice(-6)}`), ` ${w.sku} × ${w.qty}`,
            w.expiry ? ` · ${w.expiry}` : "", " → ", h("b.code", {}, w.suggested || "-"))))
          : h("p.detail", {}, t("no_plates")),
        h("div.row", {}, ui.button("refresh", () => ui.send("get_work")), ui.menuButton()),
      ],
    },

    scan_location: {
      render: ({ lpn, suggested }, ui) => [
        plateCard(lpn),
        ...suggestion(suggested),
        h("p.prompt", { "data-testid": "prompt" }, t("scan_location")),
        h("div.row", {}, ui.button("release", () => ui.send("release"))),
      ],
    },

    reason: {
      render: ({ lpn, suggested, location }, ui) => [
        plateCard(lpn),
        h("p.prompt", { "data-testid": "prompt" }, t("why_elsewhere", location, suggested.code || "-")),
        ...REASONS.map((reason) => h("div.row", {}, h("button.warn", { type: "button", "data-testid": `reason-${reason}`,
          onclick: () => ui.send("reason", { location, reason }) }, t(`reason_${reason}`)))),
      ],
    },

    confirm_qty: {
      render: (data, ui) => [
        plateCard(data.lpn),
        h("p.detail", {}, t("location")), codeBlock(data.location, "location"),
        h("p.prompt", { "data-testid": "prompt" }, t("confirm_qty")),
        h("div.row", {}, h("button.primary", { type: "button", "data-testid": "confirm",
          onclick: () => ui.send("qty", { qty: data.lpn.qty, location: data.location, reason: data.reason || "" }) },
        `${t("confirm")} ${data.lpn.qty}`), ui.button("set_qty", () => qtyDialog(data, ui))),
      ],
    },
  },

  scan(code, ui) { ui.send("scan", { code }); },

  // The snapshot says no plate is in hand: ask for the list of those waiting.
  afterSnapshot(state, ui) {
    if (state === "start" && !ui.waiting("get_work")) ui.send("get_work");
  },

  // New plates to put away: redraw the list when idle.
  onEvent(event, state, ui) {
    if (event === "putaway.waiting" && state === "start" && !ui.waiting("get_work")) ui.send("get_work");
  },

  fromSnapshot(snapshot) {
    const part = snapshot.putaway;
    if (!part) return null;
    const { state, ...data } = part;
    return { state, data };
  },
};
