// The counting scenario (盘点): one entry per server state (server/services/scenarios/counting.py).
// The counter scans the location, then every unit (a case code counts its pack, or type how many
// of the code scanned), or says the location is empty. Counts are blind: the server never sends
// the expected quantity, so nothing here can show it.
import { h } from "./dom.js";
import { lang, t } from "./i18n.js";

const WORDS = {
  zh: {
    title: "盘点", waiting: (n) => (n ? `${n} 个盘点任务等待中` : "暂无盘点任务"), get_work: "领取盘点任务",
    scan_location: "请扫描库位", scan_units: "请逐件扫描商品", counted: "已盘", units: "件", recount: "复盘",
    blind: "盲盘", empty: "空库位", finish: "完成盘点", release: "放回任务", type_qty: "输入数量",
    of_code: (code, per) => (per > 1 ? `${code}（每箱 ${per} 件）的箱数` : `${code} 的件数`),
    finished: (code, loc, n) => `${code} · ${loc} · 已盘 ${n} 件`, confirm_empty: "确认此库位为空？",
    nothing_yet: "尚未扫描商品", reasons: { zone: "按区域", aisle: "按巷道", list: "指定库位", abc_a: "A类",
      abc_b: "B类", abc_c: "C类", stale: "久未盘点", flagged: "异常库位", recount: "复盘" },
  },
  en: {
    title: "Count", waiting: (n) => (n ? `${n} count(s) waiting` : "No counts waiting"), get_work: "Get a count",
    scan_location: "Scan the location", scan_units: "Scan every unit", counted: "Counted", units: "units",
    recount: "recount", blind: "blind", empty: "Empty", finish: "Finish count", release: "Hand back",
    type_qty: "Type quantity",
    of_code: (code, per) => (per > 1 ? `Cases of ${per} (${code})` : `Units of ${code}`),
    finished: (code, loc, n) => `${code} · ${loc} · ${n} units counted`, confirm_empty: "Is this location empty?",
    nothing_yet: "Nothing scanned yet", reasons: { zone: "zone", aisle: "aisle", list: "list", abc_a: "class A",
      abc_b: "class B", abc_c: "class C", stale: "not counted lately", flagged: "flagged", recount: "recount" },
  },
};

// Whether the start screen is idle (no finished count on it): only then does news of waiting
// counts take one at once; after a count the counter reads its summary and asks.
let idle = true;

function w(word, ...args) {
  const value = (WORDS[lang()] || WORDS.zh)[word];
  return typeof value === "function" ? value(...args) : value;
}

function taskBar(task) {
  if (!task) return null;
  const why = (w("reasons") || {})[task.reason] || task.reason;
  return h("div.card.detail", { "data-testid": "count-task" },
    h("b", {}, task.code), ` · ${why}`, task.recount && task.reason !== "recount" ? ` · ${w("recount")}` : "",
    task.blind ? ` · ${w("blind")}` : "");
}

// A location code on one line, as large as the screen's width allows.
function codeBlock(code) {
  const px = Math.min(64, Math.floor(330 / (0.66 * Math.max(String(code).length, 1))));
  return h("div.huge.code", { "data-testid": "count-location", style: `font-size:${px}px` }, code);
}

function lineList(lines) {
  const counted = (lines || []).filter((line) => line.counted);
  if (!counted.length) return h("p.detail", { "data-testid": "count-lines" }, w("nothing_yet"));
  return h("div.card.detail", { "data-testid": "count-lines" }, ...counted.map((line) =>
    h("div.line", { "data-testid": `count-line-${line.sku}` }, h("span.code", {}, line.sku),
      line.lot ? ` ${t("lot")} ${line.lot}` : "", ` ${line.name} · `, h("b", {}, String(line.counted)))));
}

// How many of the code last scanned (cases for a case code): the line's whole count.
function qtyDialog(last, ui) {
  ui.dialog(() => {
    const per = last.per_scan || 1;
    const input = h("input", { type: "number", min: "0", inputmode: "numeric", "data-testid": "count-qty-input",
                               value: String(Math.floor(last.counted / per)) });
    const done = (event) => {
      event.preventDefault();
      const qty = Number.parseInt(input.value, 10);
      ui.closeDialog();
      if (Number.isInteger(qty) && qty >= 0) ui.send("qty", { code: last.code, qty });
    };
    setTimeout(() => { input.focus(); input.select(); }, 0);
    return h("form.card", { onsubmit: done },
      h("div.big", { "data-testid": "qty-sku" }, last.sku), h("div.item-name", {}, last.name),
      h("label", {}, w("of_code", last.code, per)), input,
      h("div.row", {}, h("button.primary", { type: "submit", "data-testid": "count-qty-ok" }, t("ok")),
        h("button", { type: "button", onclick: () => ui.closeDialog() }, t("cancel"))));
  });
}

function emptyDialog(ui) {
  ui.dialog(() => h("div.card", { "data-testid": "count-empty-dialog" }, h("h1", {}, w("confirm_empty")),
    h("div.row", {}, h("button.warn", { type: "button", "data-testid": "count-empty-confirm",
                                        onclick: () => { ui.closeDialog(); ui.send("empty"); } }, w("empty")),
      h("button", { type: "button", onclick: () => ui.closeDialog() }, t("cancel")))));
}

function button(word, testid, onclick, kind = "") {
  return h(kind ? `button.${kind}` : "button", { type: "button", "data-testid": testid, onclick }, w(word));
}

export const counting = {
  name: "counting",
  // the start screen's summary of a finished count is the device's: a redraw keeps it
  deviceStates: ["start"],

  states: {
    start: {
      render(data, ui) {
        idle = !data.finished;
        return [
          h("h1", {}, w("title")),
          data.finished ? h("div.card", { "data-testid": "count-finished" },
            w("finished", data.finished.code, data.finished.location, data.finished.units)) : null,
          h("p.prompt", { "data-testid": "count-waiting" }, w("waiting", data.waiting || 0)),
          h("div.row", {}, button("get_work", "count-get-work", () => ui.send("get_work"), "primary"), ui.menuButton()),
        ];
      },
    },

    scan_location: {
      render: ({ task }, ui) => [
        taskBar(task),
        h("p.prompt", { "data-testid": "prompt" }, w("scan_location")),
        codeBlock(task.location),
        h("div.row", {}, button("empty", "count-empty", () => emptyDialog(ui), "warn"),
          button("release", "count-release", () => ui.send("release"))),
      ],
    },

    scan_item: {
      render: ({ task, lines, units, last }, ui) => [
        taskBar(task),
        h("p.prompt", { "data-testid": "prompt" }, `${w("scan_units")} · `, h("span.code", {}, task.location)),
        last ? h("div.big", { "data-testid": "count-sku" }, last.sku) : null,
        last ? h("div.item-name", {}, last.name) : null,
        h("div", {}, h("span.detail", {}, `${w("counted")} `), h("span.huge", { "data-testid": "count-units" }, units || 0),
          h("span.detail", {}, ` ${w("units")}`)),
        last ? h("div.row", {}, button("type_qty", "count-type-qty", () => qtyDialog(last, ui))) : null,
        lineList(lines),
        h("div.row", {}, button("finish", "count-finish", () => ui.send("finish"), "primary"),
          units ? null : button("empty", "count-empty", () => emptyDialog(ui), "warn")),
        h("div.row", {}, button("release", "count-release", () => ui.send("release"))),
      ],
    },
  },

  // The location, then every unit: the server knows which step the count is at.
  scan(code, ui) { ui.send("scan", { code }); },

  // Counts were opened (a plan, a recount): an idle counter takes one, as a picker takes a task.
  onEvent(event, state, ui, payload = {}) {
    if (event === "count.waiting" && state === "start" && idle && payload.waiting > 0 && !ui.waiting("get_work")) {
      ui.send("get_work");
    }
  },

  fromSnapshot(snapshot) {
    const part = snapshot.counting;
    if (!part) return null;
    const { state, ...data } = part;
    return { state, data };
  },
};

// The work menu's entry: ask the server for this counter's count (or the next one waiting).
export function startCounting(ui) { ui.send("get_work"); }
