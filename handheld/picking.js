// The picking scenario (拣货): one entry per server state (server/services/scenarios/picking.py).
// Each state draws its screen and says what a scan means there; the server decides.
import { h } from "./dom.js";
import { t } from "./i18n.js";

function taskBar(task) {
  if (!task) return null;
  const share = task.units_total ? Math.round((100 * task.units_done) / task.units_total) : 0;
  return h("div.card.detail", { "data-testid": "task" },
    `${task.code} · ${task.lines_done}/${task.lines_total} ${t("lines")} · ${task.units_done}/${task.units_total} ${t("units")}`,
    h("div.progress", {}, h("div", { style: `width:${share}%` })));
}

function slotLine(line) {
  const tote = line.tote ? ` · ${t("tote")} ${line.tote}` : "";
  return h("p.detail", { "data-testid": "slot-line" },
    `${t("slot")} ${line.slot || "-"}${tote}${line.lot ? ` · ${t("lot")} ${line.lot}` : ""}`);
}

// A location code on one line, as large as the screen's width allows: "A01-01-1" never breaks
// at its hyphen.
function codeBlock(code, testid) {
  const px = Math.min(64, Math.floor(330 / (0.66 * Math.max(String(code).length, 1))));
  return h("div.huge.code", { "data-testid": testid, style: `font-size:${px}px` }, code);
}

function toteHint(example) {
  // the example code on one line: "HZ-T001" never breaks at its hyphen
  return example ? h("p.detail", { "data-testid": "tote-hint" }, t("tote_looks_like"), " ", h("span.code", {}, example))
    : null;
}

function item(line) {
  return [h("div.big", { "data-testid": "sku" }, line.sku), h("div.item-name", { "data-testid": "name" }, line.name),
          line.spec ? h("p.detail", {}, line.spec) : null];
}

export const picking = {
  name: "picking",

  states: {
    start: {
      render: (_data, ui) => [
        h("h1", {}, t("start")),
        h("p.prompt", {}, t("waiting")),
        h("div.row", {}, h("button.primary", { "data-testid": "get-work", onclick: () => ui.send("get_work") },
                           t("get_work"))),
      ],
    },

    scan_location: {
      render: ({ task, line }, ui) => [
        taskBar(task),
        h("p.prompt", {}, t("scan_location")),
        codeBlock(line.location, "location"),
        h("div.item-name", {}, `${line.sku} × ${line.remaining}`),
        h("p.item-name", { "data-testid": "name" }, line.name),
        slotLine(line),
        h("div.row", {}, ui.button("skip", () => ui.send("skip")), ui.button("short", () => ui.shortDialog(), "warn")),
      ],
    },

    scan_item: {
      render: ({ task, line }, ui) => [
        taskBar(task),
        h("p.prompt", {}, `${t("scan_item")} · `, h("span.code", {}, line.location)),
        ...item(line),
        h("div", {}, h("span.detail", {}, `${t("to_pick")} `),
          h("span.huge", { "data-testid": "remaining" }, line.remaining)),
        slotLine(line),
        // no quantity before the item was scanned once: a typed count is of the item seen
        h("p.detail", { "data-testid": "qty-hint" }, t("scan_item_first")),
        h("div.row", {}, ui.button("skip", () => ui.send("skip")), ui.button("short", () => ui.shortDialog(), "warn")),
      ],
    },

    qty: {
      render: ({ task, line }, ui) => [
        taskBar(task),
        h("p.prompt", {}, t("qty")),
        ...item(line),
        h("div.huge", { "data-testid": "count" }, `${line.counted} / ${line.remaining}`),
        slotLine(line),
        h("div.row", {}, ui.button("set_qty", () => ui.qtyDialog(line)), ui.button("short", () => ui.shortDialog(), "warn")),
      ],
    },

    // The slot's first tote: no tote is on the screen yet, so the picker is told which slot it
    // is for and what a tote's code looks like.
    scan_tote: {
      render: ({ task, line }, ui) => [
        taskBar(task),
        h("p.prompt", { "data-testid": "tote-prompt" }, line.tote ? t("scan_tote") : t("scan_empty_tote", line.slot)),
        h("div", {}, h("span.detail", {}, `${t("slot")} `),
          h("span.huge", { "data-testid": "slot" }, line.slot || "-")),
        line.tote ? h("div.big.code", { "data-testid": "tote" }, line.tote) : toteHint(ui.toteExample()),
        h("div.item-name", {}, `${line.sku} × ${line.counted}`),
        h("div.row", {}, ui.button("set_qty", () => ui.qtyDialog(line))),
      ],
    },

    // The supervisor paused the wave: the line stays on the screen, nothing is confirmed.
    paused: {
      render: ({ task, line }) => [
        taskBar(task),
        h("h1", { "data-testid": "paused" }, t("paused")),
        h("p.prompt", {}, t("paused_wait")),
        line ? codeBlock(line.location, "location") : null,
        line ? h("div.item-name", {}, `${line.sku} × ${line.remaining}`) : null,
        line && line.counted ? h("p.detail", {}, `${t("counted")} ${line.counted}`) : null,
      ],
    },

    task_done: {
      render: ({ task }, ui) => [
        h("h1", { "data-testid": "done" }, t("task_done")),
        task ? h("p.prompt", {}, `${task.code} · ${task.units_done} ${t("units")}`) : null,
        h("div.row", {}, h("button.primary", { "data-testid": "next-task", onclick: () => ui.send("get_work") },
                           t("next_task"))),
      ],
    },
  },

  // A scan is always the same command; the server knows which step the line is at.
  scan(code, ui) { ui.send("scan", { code }); },

  // The server has new work for pickers: ask for it when idle. The task went to another picker,
  // or its wave paused or resumed: say why, and ask the server where this device stands now.
  onEvent(event, state, ui, payload = {}) {
    if (event === "task.reassigned" || event === "wave.paused" || event === "wave.resumed") {
      const extra = event === "task.reassigned" ? ` (${t("moved_to", payload.task, payload.to)})` : "";
      ui.notify(payload, event === "wave.resumed" ? "info" : "warning", extra);
      if (!ui.waiting("current")) ui.send("current");
      return;
    }
    if ((event === "task.assigned" || event === "task.changed") && state === "start" && !ui.waiting("get_work")) {
      ui.send("get_work");
    }
  },

  fromSnapshot(snapshot) {
    const part = snapshot.picking;
    if (!part) return null;
    const { state, ...data } = part;
    return { state, data };
  },
};
