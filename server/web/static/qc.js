// The QC bench (质检台): plates waiting for QC, one plate's sample checked unit by unit, the decision.
// Talks to /api/v1/qc/... with the page's session; every write names its plate.

const TEXT = {
  zh: {
    scan_lpn: "扫描托盘/箱标签 (SSCC)", open: "打开", waiting: "待检托盘", sscc: "SSCC", sku: "商品编码", lot: "批次",
    qty: "数量", sample: "样本/接收数", progress: "已检/不合格", pass: "合格 ✓", fail_with: "不合格，原因：",
    reject_early: "提前判退（主管）", pick_one: "扫描或选择一个待检托盘。", name: "商品", expiry: "有效期",
    supplier: "供应商", po: "采购单", receipt: "收货单", location: "库位", plan: "抽样方案",
    plan_text: (v) => v.qc_plan === "full" ? `全检 ${v.sample_size} 件，接收数 0` :
      `GB/T 2828.1 一般检验水平 II，AQL ${v.aql}：抽 ${v.sample_size} 件，接收数 Ac ${v.accept_number}`,
    tally: (v) => `已检 ${v.checked} / ${v.sample_size}，不合格 ${v.failed}（Ac ${v.accept_number}），还需检 ${v.remaining} 件`,
    decided_pass: "判定：合格 — 商品已转可用库存，可上架", decided_reject: (v) => `判定：判退 — 商品已冻结，退供单 ${v.supplier_return}`,
    passed: "合格", failed: "不合格", none_waiting: "没有待检托盘。", unit: "件",
    damaged: "破损", wrong_item: "错货", expired: "过期", short_dated: "临期", dirty: "脏污", other: "其他",
  },
  en: {
    scan_lpn: "Scan the LPN label (SSCC)", open: "Open", waiting: "Waiting for QC", sscc: "SSCC", sku: "SKU", lot: "Lot",
    qty: "Qty", sample: "Sample / Ac", progress: "Checked / failed", pass: "Pass ✓", fail_with: "Fail, because:",
    reject_early: "Reject now (supervisor)", pick_one: "Scan or pick a plate waiting for QC.", name: "Item",
    expiry: "Expiry", supplier: "Supplier", po: "PO", receipt: "Receipt", location: "Location", plan: "Plan",
    plan_text: (v) => v.qc_plan === "full" ? `100 %: all ${v.sample_size} units, accept 0` :
      `ISO 2859-1 level II, AQL ${v.aql}: sample ${v.sample_size} units, accept Ac ${v.accept_number}`,
    tally: (v) => `Checked ${v.checked} of ${v.sample_size}, failed ${v.failed} (Ac ${v.accept_number}), ${v.remaining} to go`,
    decided_pass: "Decision: ACCEPTED — units available, ready for putaway",
    decided_reject: (v) => `Decision: REJECTED — units frozen, supplier return ${v.supplier_return}`,
    passed: "passed", failed: "failed", none_waiting: "No plates are waiting for QC.", unit: "units",
    damaged: "damaged", wrong_item: "wrong item", expired: "expired", short_dated: "short dated", dirty: "dirty",
    other: "other",
  },
};

const root = document.getElementById("qc");
const page = { lang: root.dataset.lang === "en" ? "en" : "zh", canReject: root.dataset.canReject === "1",
               reasons: [], current: null, busy: false };
const $ = (id) => document.getElementById(id);
const t = (key) => (TEXT[page.lang] || TEXT.zh)[key] ?? key;

function translateFixed() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

async function call(method, path, body) {
  const response = await fetch(`/api/v1${path}`, {
    method, credentials: "same-origin",
    headers: { "Accept": "application/json", "Accept-Language": page.lang === "en" ? "en" : "zh-CN",
               ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(answer.message || response.statusText), { answer });
  return answer;
}

function say(message, kind = "info") {
  const el = $("message");
  el.textContent = message || "";
  el.className = `qc-message ${kind}`;
}

async function loadWaiting() {
  const answer = await call("GET", "/qc/lpns");
  page.reasons = answer.reasons;
  const body = $("lpns").querySelector("tbody");
  body.replaceChildren();
  $("count").textContent = `(${answer.items.length})`;
  if (!answer.items.length) {
    const row = body.insertRow();
    row.className = "empty";
    Object.assign(row.insertCell(), { colSpan: 6, textContent: t("none_waiting") });
  }
  for (const v of answer.items) {
    const row = body.insertRow();
    row.dataset.sscc = v.sscc;
    row.classList.toggle("here", page.current?.sscc === v.sscc);
    const cells = [v.sscc.slice(-8), `${v.sku}`, v.lot || "-", v.qty, `${v.sample_size} / ${v.accept_number}`,
                   `${v.checked} / ${v.failed}`];
    cells.forEach((value, i) => Object.assign(row.insertCell(), { textContent: value, className: i >= 3 ? "n" : "" }));
    row.cells[0].title = v.sscc;
    row.addEventListener("click", () => openLpn(v.sscc));
  }
}

async function openLpn(code) {
  try {
    show(await call("GET", `/qc/lpns/${encodeURIComponent(code)}`));
    say("");
  } catch (error) {
    say(error.message, "bad");
  }
}

function fact(list, key, value) {
  const dt = document.createElement("dt");
  dt.textContent = t(key);
  const dd = document.createElement("dd");
  dd.textContent = value ?? "-";
  list.append(dt, dd);
}

function show(v) {
  page.current = v;
  $("lot").hidden = false;
  $("empty").hidden = true;
  $("lot-sku").textContent = v.sku;
  $("lot-name").textContent = v.name;
  const facts = $("lot-facts");
  facts.replaceChildren();
  fact(facts, "sscc", v.sscc);
  fact(facts, "lot", v.lot || "-");
  fact(facts, "expiry", v.expiry || "-");
  fact(facts, "qty", `${v.qty} ${t("unit")}`);
  fact(facts, "supplier", `${v.supplier} ${v.supplier_name}`);
  fact(facts, "po", `${v.po} · ${v.receipt}`);
  fact(facts, "location", v.location);
  fact(facts, "plan", t("plan_text")(v));
  $("meter-bar").style.width = `${v.sample_size ? Math.round(100 * v.checked / v.sample_size) : 0}%`;
  $("meter-bar").classList.toggle("over", v.failed > v.accept_number);
  $("tally").textContent = t("tally")(v);
  const open = v.status === "qc_pending";
  $("record").hidden = !open;
  $("reject").hidden = !(open && page.canReject && v.can_reject_early);
  const decision = $("decision");
  decision.hidden = !v.decision;
  decision.className = `decision ${v.decision || ""}`;
  decision.textContent = v.decision === "pass" ? t("decided_pass") : v.decision === "reject" ? t("decided_reject")(v) : "";
  const reasons = $("reasons");
  reasons.replaceChildren(...(v.reasons || page.reasons).map((reason) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "reason";
    button.dataset.reason = reason;
    button.textContent = t(reason);
    button.addEventListener("click", () => record(false, reason));
    return button;
  }));
  const checks = $("checks");
  checks.replaceChildren(...(v.checks || []).map((c) => {
    const item = document.createElement("li");
    item.className = c.passed ? "ok" : "bad";
    item.textContent = c.passed ? t("passed") : `${t("failed")}: ${t(c.reason)}`;
    return item;
  }));
  for (const row of $("lpns").querySelectorAll("tbody tr")) row.classList.toggle("here", row.dataset.sscc === v.sscc);
}

async function record(passed, reason = "") {
  if (!page.current || page.busy) return;
  page.busy = true;  // one check at a time: a double click records one unit, not two
  let refused = null;
  try {
    show(await call("POST", `/qc/lpns/${page.current.sscc}/checks`, { passed, reason }));
    say("");
  } catch (error) {
    refused = error.message;
  } finally {
    page.busy = false;
  }
  if (refused === null) {
    loadWaiting().catch(() => {});
  } else {  // show the plate as it is now (another inspector may have decided it), then why
    await openLpn(page.current.sscc);
    say(refused, "bad");
  }
}

async function rejectEarly() {
  if (!page.current) return;
  try {
    show(await call("POST", `/qc/lpns/${page.current.sscc}/reject`));
    await loadWaiting();
  } catch (error) {
    say(error.message, "bad");
  }
}

translateFixed();
$("scan").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = $("code").value.trim();
  $("code").value = "";
  if (code) openLpn(code);
});
$("pass").addEventListener("click", () => record(true));
$("reject").addEventListener("click", rejectEarly);
loadWaiting().catch((error) => say(error.message, "bad"));
setInterval(() => { if (!page.busy) loadWaiting().catch(() => {}); }, 15000);
