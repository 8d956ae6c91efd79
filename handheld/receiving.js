// The receiving scenario (入库): one entry per server state (server/services/scenarios/receiving.py).
// The receiver scans the PO (or the delivery note), then the items; the server counts every
// scan, keeps the plate in hand, and closes plates with their label. Blind receipts never show
// what was ordered: the server leaves it out.
import { h } from "./dom.js";
import { t } from "./i18n.js";

function receiptBar(receipt) {
  if (!receipt) return null;
  const ordered = receipt.units_ordered !== undefined ? ` / ${receipt.units_ordered}` : "";
  const share = receipt.units_ordered ? Math.min(100, Math.round((100 * receipt.units_received) / receipt.units_ordered)) : 0;
  return h("div.card.detail", { "data-testid": "receipt" },
    h("div", {}, h("b", { "data-testid": "receipt-po" }, receipt.po), ` · ${receipt.supplier} · ${receipt.dock}`),
    h("div", { "data-testid": "receipt-units" }, `${t("received")} ${receipt.units_received}${ordered} ${t("units")}`,
      receipt.blind ? ` · ${t("blind")}` : ""),
    receipt.units_ordered ? h("div.progress", {}, h("div", { style: `width:${share}%` })) : null);
}

function lineList(lines) {
  if (!lines || !lines.length) return null;
  return h("div.card.detail", { "data-testid": "lines" }, ...lines.map((line) =>
    h("div.line", { "data-testid": `line-${line.sku}` },
      h("span.code", {}, line.sku), ` ${line.name} · `,
      // the count on one line: "2 / 60" never leaves its "/ 60" on the next
      h("span.code", {}, h("b", {}, String(line.received)), line.ordered !== undefined ? ` / ${line.ordered}` : ""))));
}

function plateInHand(lpn) {
  return [
    h("div.big", { "data-testid": "sku" }, lpn.sku),
    h("div.item-name", { "data-testid": "name" }, lpn.name),
    lpn.lot || lpn.expiry ? h("p.detail", { "data-testid": "lot" },
      [lpn.lot ? `${t("lot")} ${lpn.lot}` : "", lpn.expiry ? `${t("expiry")} ${lpn.expiry}` : ""].filter(Boolean).join(" · "))
      : null,
    h("div", {}, h("span.detail", {}, `${t("on_plate")} `), h("span.huge", { "data-testid": "count" }, lpn.qty)),
  ];
}

// The whole count of the plate in hand, typed (the server receives the difference).
function qtyDialog(lpn, ui) {
  ui.dialog(() => {
    const input = h("input", { type: "number", min: String(lpn.qty), inputmode: "numeric", "data-testid": "qty-input",
                               value: String(lpn.qty) });
    const done = (event) => {
      event.preventDefault();
      const qty = Number.parseInt(input.value, 10);
      ui.closeDialog();
      if (Number.isInteger(qty)) ui.send("qty", { qty });
    };
    setTimeout(() => { input.focus(); input.select(); }, 0);
    return h("form.card", { onsubmit: done },
      h("p.detail", {}, t("plate_total")), h("div.big", { "data-testid": "qty-sku" }, lpn.sku),
      h("div.item-name", {}, lpn.name), input,
      h("div.row", {}, h("button.primary", { type: "submit", "data-testid": "qty-ok" }, t("ok")),
        h("button", { type: "button", onclick: () => ui.closeDialog() }, t("cancel"))));
  });
}

// Finish: the rest stays in transit, or (a supervisor) the PO is closed short with a reason.
function finishDialog(ui) {
  ui.dialog(() => {
    const reason = h("input", { "data-testid": "short-reason", placeholder: t("short_reason_hint") });
    return h("div.card", { "data-testid": "finish-dialog" },
      h("h1", {}, t("finish_receipt")),
      h("p.detail", {}, t("rest_in_transit")),
      h("div.row", {}, h("button.primary", { type: "button", "data-testid": "finish-confirm",
                                             onclick: () => { ui.closeDialog(); ui.send("finish"); } }, t("finish"))),
      h("label", {}, t("close_short")), reason,
      h("div.row", {}, h("button.warn", { type: "button", "data-testid": "finish-short",
        onclick: () => { if (!reason.value.trim()) return; ui.closeDialog(); ui.send("finish", { reason: reason.value.trim() }); } },
      t("close_short_button"))),
      h("div.row", {}, h("button", { type: "button", onclick: () => ui.closeDialog() }, t("cancel"))));
  });
}

function finishedCard(finished) {
  if (!finished) return null;
  return h("div.card", { "data-testid": "finished" },
    h("b", {}, `${finished.po} · ${finished.receipt}`),
    h("p.detail", {}, `${t("received")} ${finished.units_received} ${t("units")} · ${finished.plates.length} ${t("plates")}`));
}

export const receiving = {
  name: "receiving",
  // the start screen's summary of a finished receipt is the device's: a redraw keeps it
  deviceStates: ["start"],

  states: {
    start: {
      render: (data, ui) => [
        h("h1", {}, t("receive")),
        finishedCard(data.finished),
        h("p.prompt", { "data-testid": "prompt" }, t("scan_po")),
        h("div.row", {}, ui.menuButton()),
      ],
    },

    scan_item: {
      render: ({ receipt, lines, plates }, ui) => [
        receiptBar(receipt),
        h("p.prompt", { "data-testid": "prompt" }, t("scan_item")),
        lineList(lines),
        plates && plates.length ? h("p.detail", { "data-testid": "open-plates" },
          `${t("open_plates")}: ${plates.map((p) => `${p.sku}×${p.qty}`).join(", ")}`) : null,
        h("div.row", {}, ui.button("finish", () => finishDialog(ui), "warn")),
      ],
    },

    qty: {
      render: ({ receipt, lines, lpn }, ui) => [
        receiptBar(receipt),
        h("p.prompt", { "data-testid": "prompt" }, t("qty")),
        ...plateInHand(lpn),
        h("div.row", {}, ui.button("set_qty", () => qtyDialog(lpn, ui)),
          ui.button("print_label", () => ui.send("label"), "primary")),
        lineList(lines),
        h("div.row", {}, ui.button("finish", () => finishDialog(ui), "warn")),
      ],
    },
  },

  scan(code, ui, state) { ui.send(state === "start" ? "start" : "scan", { code }); },

  onEvent() {},

  fromSnapshot(snapshot) {
    const part = snapshot.receiving;
    if (!part) return null;
    const { state, ...data } = part;
    return { state, data };
  },
};
