// The qc scenario (入库质检): one entry per server state (server/services/scenarios/qc.py).
// The inspector scans a licence plate waiting for QC, checks its sample unit by unit (Pass, or
// one button per defect reason) and reads the lot's decision. The plate in hand is the device's:
// every check names it (`sscc`), so a check queued offline counts on the plate it was made for.
import { h } from "./dom.js";
import { t } from "./i18n.js";

const REASONS = ["damaged", "wrong_item", "expired", "short_dated", "dirty", "other"];
const GRID = "display:grid;grid-template-columns:1fr 1fr;gap:8px;margin-top:6px";
let mayRejectEarly = false;  // the snapshot says whether this user may reject a lot early

function plateCard(plate) {
  const nowrap = (text, testid) => h("span.code", testid ? { "data-testid": testid } : {}, text);
  return h("div.card.detail", { "data-testid": "plate" },
    h("div", { style: "display:flex;justify-content:space-between;align-items:baseline;gap:8px" },
      h("span.code", { "data-testid": "sku", style: "font-size:34px;font-weight:800" }, plate.sku),
      nowrap(`${plate.qty} ${t("units")}`, "qty")),
    h("div", { "data-testid": "name", style: "font-size:22px;font-weight:700" }, plate.name),
    h("div", { "data-testid": "lot" }, h("div.code", {}, `${t("lot")} ${plate.lot || "–"}`),
      plate.expiry ? h("div.code", {}, `${t("expiry")} ${plate.expiry}`) : null),
    h("div.muted", {}, nowrap(plate.sscc, "sscc"), " · ", nowrap(plate.po), " · ",
      plate.supplier_name || plate.supplier));
}

// The sample so far: checked of the sample size, failed against the acceptance number Ac.
function sampleCard(plate) {
  const share = plate.sample_size ? Math.min(100, Math.round((100 * plate.checked) / plate.sample_size)) : 0;
  const over = plate.failed > plate.accept_number;
  return h("div.card", { "data-testid": "sample" },
    h("div", { style: "display:flex;gap:12px" },
      h("div", { style: "flex:1" }, h("div.muted", {}, t("qc_checked")),
        h("div", { style: "font-size:48px;font-weight:900;line-height:1" },
          h("span", { "data-testid": "checked" }, String(plate.checked)),
          h("span", { style: "font-size:28px" }, " / ", h("span", { "data-testid": "sample-size" }, String(plate.sample_size))))),
      h("div", { style: "flex:1" }, h("div.muted.code", {}, `${t("qc_failed")} (${t("qc_accept")} ${plate.accept_number})`),
        h("div", { "data-testid": "failed", style: `font-size:48px;font-weight:900;line-height:1;color:${over ? "#c53030" : "inherit"}` },
          String(plate.failed)))),
    h("div.progress", {}, h("div", { style: `width:${share}%` })),
    h("p.detail", { "data-testid": "remaining", style: "margin-bottom:0" }, t("qc_remaining", plate.remaining)));
}

function decisionCard(plate) {
  const passed = plate.decision === "pass";
  return h("div.card", { "data-testid": "decision", "data-decision": plate.decision || "",
                         style: `border-left:10px solid ${passed ? "#2f855a" : "#c53030"}` },
    h("div.big", { "data-testid": "decision-words", style: `word-break:keep-all;color:${passed ? "#22543d" : "#9b2c2c"}` },
      t(passed ? "qc_lot_passed" : "qc_lot_rejected")),
    h("p.detail", { "data-testid": "decision-counts" }, ...t("qc_result", plate.checked, plate.failed, plate.accept_number)
      .flatMap((part, n) => [n ? t("qc_result_sep") : null, h("span.code", {}, part)]).filter(Boolean)),
    h("p.detail", { "data-testid": "decision-next" }, passed ? t("qc_pass_next")
      : [t("qc_reject_next"), plate.supplier_return ? [" ", h("b.code", {}, plate.supplier_return)] : null]));
}

function scanScreen(data, ui) {
  const plate = data && data.sscc ? data : null;  // a plate that is not waiting for QC, shown
  return [
    h("h1", {}, t("qc_title")),
    h("p.prompt", { "data-testid": "prompt" }, t("qc_scan_lpn")),
    data && data.waiting !== undefined ? h("p.detail", { "data-testid": "waiting" }, t("qc_waiting", data.waiting)) : null,
    plate ? plateCard(plate) : null,
    plate && plate.decision ? decisionCard(plate) : null,
    h("div.row", {}, ui.menuButton()),
  ];
}

export const qc = {
  name: "qc",
  // the plate in hand is the device's: a language switch draws the screen again, nothing is asked
  deviceStates: ["start", "scan_lpn", "check", "decided"],

  states: {
    start: { render: scanScreen },
    scan_lpn: { render: scanScreen },

    check: {
      render: (plate, ui) => [
        plateCard(plate),
        sampleCard(plate),
        h("div.row", {}, h("button.primary", { type: "button", "data-testid": "qc-pass", style: "min-height:72px;font-size:28px",
                                               onclick: () => ui.send("pass", { sscc: plate.sscc }) }, t("qc_pass"))),
        h("p.prompt", { style: "margin-top:10px" }, t("qc_fail_why")),
        h("div", { style: GRID }, ...REASONS.map((reason) => h("button.warn", {
          type: "button", "data-testid": `qc-fail-${reason}`,
          onclick: () => ui.send("fail", { sscc: plate.sscc, reason }) }, t(`qc_reason_${reason}`)))),
        mayRejectEarly && plate.can_reject_early ? h("div.row", {}, h("button", {
          type: "button", "data-testid": "qc-reject", style: "background:#c53030",
          onclick: () => ui.send("reject", { sscc: plate.sscc }) }, t("qc_reject_early"))) : null,
        h("p.detail", {}, t("qc_scan_other")),
      ],
    },

    decided: {
      render: (plate, ui) => [
        decisionCard(plate),
        plateCard(plate),
        h("p.prompt", { "data-testid": "prompt" }, t("qc_scan_next")),
        h("div.row", {}, ui.menuButton()),
      ],
    },
  },

  // Any state: a scanned code is a plate to check (the server names what it is not).
  scan(code, ui) { ui.send("scan", { code }); },

  onEvent() {},

  // Nothing of the plate in hand is on the server: the snapshot only starts the screen.
  fromSnapshot(snapshot) {
    const part = snapshot.qc;
    if (!part) return null;
    mayRejectEarly = Boolean(part.can_reject_early);
    return null;
  },

  // The start screen's count of plates waiting, from the last snapshot.
  startData(snapshot) {
    const part = snapshot && snapshot.qc;
    return part ? { waiting: part.waiting } : {};
  },
};
