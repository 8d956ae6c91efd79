// The picking scenario (拣货): one entry per server state (server/services/scenarios/picking.py).
// Each state draws its screen and says what a scan means there; the server decides.
import { h } from "./dom.js";
import { t } from "./i18n.js";

function taskBar(task) {
  if (!task) return null;
  const share = task.units_total ? Math.round((100 * task.units_done) / task.units_total) : 0;
  return h("div.card.muted", { "data-testid": "task" },
    `${task.code} · ${task.lines_done}/${task.lines_total} ${t("lines")} · ${task.units_done}/${task.units_total} ${t("units")}`,
    h("div.progress", {}, h("div", { style: `width:${share}%` })));
}

function slotLine(line) {
  const tote = line.tote ? ` · ${t("tote")} ${line.tote}` : "";
  return h("p.muted", {}, `${t("slot")} ${line.slot || "-"}${tote}${line.lot ? ` · ${t("lot")} ${line.lot}` : ""}`);
}

function item(line) {
  return [h("div.big", { "data-testid": "sku" }, line.sku), h("div.item-name", {}, line.name),
          line.spec ? h("p.muted", {}, line.spec) : null];
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
        h("div.huge", { "data-testid": "location" }, line.location),
        h("div.item-name", {}, `${line.sku} × ${line.remaining}`),
        h("p.muted", {}, line.name),
        slotLine(line),
        h("div.row", {}, ui.button("skip", () => ui.send("skip")), ui.button("short", () => ui.shortDialog(), "warn")),
      ],
    },

    scan_item: {
      render: ({ task, line }, ui) => [
        taskBar(task),
        h("p.prompt", {}, `${t("scan_item")} · ${line.location}`),
        ...item(line),
        h("div", {}, h("span.muted", {}, `${t("to_pick")} `), h("span.huge", { "data-testid": "remaining" }, line.remaining)),
        slotLine(line),
        h("div.row", {}, ui.button("set_qty", () => ui.qtyDialog(line)), ui.button("skip", () => ui.send("skip")),
          ui.button("short", () => ui.shortDialog(), "warn")),
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

    scan_tote: {
      render: ({ task, line }) => [
        taskBar(task),
        h("p.prompt", {}, t("scan_tote")),
        h("div", {}, h("span.muted", {}, `${t("slot")} `), h("span.huge", { "data-testid": "slot" }, line.slot || "-")),
        line.tote ? h("div.big", { "data-testid": "tote" }, line.tote) : null,
        h("div.item-name", {}, `${line.sku} × ${line.counted}`),
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

  // The server has new work for pickers: ask for it when idle.
  onEvent(event, state, ui) {
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
