// The replenishing scenario (补货): one entry per server state
// (server/services/scenarios/replenishing.py). Take a task, scan the reserve location, scan the
// item (or type how many were taken), carry them to the pick face and scan it. The server decides
// every step; this file only draws them.
import { h } from "./dom.js";
import { lang } from "./i18n.js";

// This scenario's own words (the shared table in i18n.js holds the rest of the app's).
const WORDS = {
  zh: {
    title: "补货", get_task: "领取任务", refresh: "刷新", no_tasks: "暂无补货任务",
    waiting: (n) => `${n} 个补货任务等待中`, demand: "波次急补", min: "低于下限",
    go_source: "请到存储位取货", take: "应取", taken: "已取", scan_source: "请扫描存储位",
    scan_item: "请扫描商品", more_or_face: "继续扫描、输入数量，或扫描拣货位", to_face: "送到拣货位",
    set_qty: "输入数量", take_all: "全部取出", release: "放回任务", ok: "确定", cancel: "取消",
    lot: "批次", expiry: "效期", wave: "波次", done: "已补货", units: "件",
  },
  en: {
    title: "Replenish", get_task: "Get a task", refresh: "Refresh", no_tasks: "No replenishment waits",
    waiting: (n) => `${n} task(s) waiting`, demand: "for a wave", min: "below minimum",
    go_source: "Take units from", take: "Take", taken: "Taken", scan_source: "Scan the reserve location",
    scan_item: "Scan the item", more_or_face: "Scan more, type the quantity, or scan the pick face",
    to_face: "Bring them to", set_qty: "Type quantity", take_all: "Take all", release: "Hand back",
    ok: "OK", cancel: "Cancel", lot: "Lot", expiry: "Exp", wave: "Wave", done: "Replenished", units: "units",
  },
};

function w(word, ...args) {
  const value = (WORDS[lang()] || WORDS.zh)[word] ?? WORDS.zh[word] ?? word;
  return typeof value === "function" ? value(...args) : value;
}

// A location code as large as one line of a 360-px screen allows.
function codeBlock(code, testid) {
  const px = Math.min(64, Math.floor(330 / (0.66 * Math.max(String(code).length, 1))));
  return h("div.huge.code", { "data-testid": testid, style: `font-size:${px}px` }, code);
}

function taskCard(task) {
  const why = task.trigger === "demand" ? `${w("demand")}${task.wave ? ` ${task.wave}` : ""}` : w("min");
  return h("div.card", { "data-testid": "task" },
    h("div.detail", {}, h("span.code", { "data-testid": "task-code" }, task.code), ` · ${why}`),
    h("div.big", { "data-testid": "sku" }, task.sku),
    h("div.item-name", { "data-testid": "name" }, task.name),
    task.lot || task.expiry ? h("div.detail", { "data-testid": "lot" },
      [task.lot ? `${w("lot")} ${task.lot}` : "", task.expiry ? `${w("expiry")} ${task.expiry}` : ""]
        .filter(Boolean).join(" · ")) : null,
    h("div.detail", { "data-testid": "counts" }, `${w("take")} `, h("b", {}, String(task.qty)),
      ` · ${w("taken")} `, h("b", { "data-testid": "moved" }, String(task.moved))));
}

function qtyDialog(task, ui) {
  ui.dialog(() => {
    const input = h("input", { type: "number", min: "0", max: String(task.qty), inputmode: "numeric",
                               "data-testid": "qty-input", value: String(task.moved || "") });
    const done = (event) => {
      event.preventDefault();
      const qty = Number.parseInt(input.value, 10);
      ui.closeDialog();
      if (Number.isInteger(qty)) ui.send("qty", { qty });
    };
    setTimeout(() => input.focus(), 0);
    return h("form.card", { onsubmit: done },
      h("p.detail", {}, `${w("set_qty")} (≤ ${task.qty})`), h("div.big", {}, task.sku), input,
      h("div.row", {}, h("button.primary", { type: "submit", "data-testid": "qty-ok" }, w("ok")),
        h("button", { type: "button", onclick: () => ui.closeDialog() }, w("cancel"))));
  });
}

function button(word, onclick, kind = "") {
  return h(kind ? `button.${kind}` : "button", { type: "button", "data-testid": word, onclick }, w(word));
}

export const replenishing = {
  name: "replenishing",

  states: {
    start: {
      render: (data, ui) => [
        h("h1", {}, w("title")),
        data.done ? h("div.card", { "data-testid": "done" }, `${w("done")}: `, h("b.code", {}, data.done.face),
          ` · ${data.done.sku} × ${data.done.moved}`) : null,
        data.waiting && data.waiting.length ? h("div.card.detail", { "data-testid": "waiting" },
          h("div", {}, w("waiting", data.waiting.length)),
          ...data.waiting.map((task) => h("div.line", { "data-testid": `waiting-${task.code}` },
            h("div", {}, h("span.code", {}, task.source), " → ", h("b.code", {}, task.face)),
            h("div.muted", {}, `${task.sku} × ${task.qty}`, task.trigger === "demand" ? ` · ${w("demand")}` : ""))))
          : h("p.detail", { "data-testid": "no-tasks" }, w("no_tasks")),
        h("div.row", {}, button("get_task", () => ui.send("get_work"), "primary")),
        h("div.row", {}, button("refresh", () => ui.send("current")), ui.menuButton()),
      ],
    },

    scan_source: {
      render: ({ task }, ui) => [
        taskCard(task),
        h("p.detail", {}, w("go_source")), codeBlock(task.source, "source"),
        h("p.prompt", { "data-testid": "prompt" }, w("scan_source")),
        h("div.row", {}, button("release", () => ui.send("release"))),
      ],
    },

    scan_item: {
      render: ({ task }) => [
        taskCard(task),
        h("p.detail", {}, w("go_source")), codeBlock(task.source, "source"),
        h("p.prompt", { "data-testid": "prompt" }, w("scan_item")),
      ],
    },

    qty: {
      render: ({ task }, ui) => [
        taskCard(task),
        h("p.detail", {}, w("to_face")), codeBlock(task.face, "face"),
        h("p.prompt", { "data-testid": "prompt" }, w("more_or_face")),
        h("div.row", {}, button("set_qty", () => qtyDialog(task, ui)),
          task.moved < task.qty ? button("take_all", () => ui.send("qty", { qty: task.qty })) : null),
      ],
    },
  },

  scan(code, ui) { ui.send("scan", { code }); },

  // The snapshot says no task is in hand: ask for the list of those waiting (changing nothing).
  afterSnapshot(state, ui) {
    if (state === "start" && !ui.waiting("current")) ui.send("current");
  },

  // A task waits (or was taken by someone else): redraw the list when idle.
  onEvent(event, state, ui) {
    if (event === "replenishment.waiting" && state === "start" && !ui.waiting("current")) ui.send("current");
  },

  fromSnapshot(snapshot) {
    const part = snapshot.replenishing;
    if (!part) return null;
    const { state, ...data } = part;
    return { state, data };
  },
};

// What the work menu calls when the user chooses replenishment: draw the tasks waiting.
export function startReplenishing(ui) {
  if (!ui.waiting("current")) ui.send("current");
}
