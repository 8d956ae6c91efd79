// The handheld's words, zh-CN and English. Server messages arrive already translated.
const WORDS = {
  zh: {
    login: "登录", user: "工号", pin: "PIN", device: "设备编号", logout: "退出",
    online: "在线", offline: "离线", queued: (n) => `${n} 次扫描待发送`,
    start: "暂无任务", get_work: "领取任务", waiting: "等待新任务…",
    scan_location: "请扫库位", scan_item: "请扫商品", qty: "继续扫描或输入数量", scan_tote: "请扫周转箱",
    task_done: "任务完成", next_task: "下一个任务",
    to_pick: "应拣", counted: "已计", picked: "已拣", slot: "格口", tote: "周转箱", lot: "批次",
    lines: "行", units: "件", short: "缺货", skip: "跳过", set_qty: "输入数量", ok: "确定", cancel: "取消",
    reasons: { empty: "库位空", damaged: "商品损坏", not_found: "找不到", other: "其他" },
    short_reason: "缺货原因", camera: "相机", camera_unavailable: "摄像头不可用",
    login_failed: "登录失败", locked_out: "登录失败次数过多，请稍后再试。",
    counting: "正在计数", scan_item_first: "先扫一次商品，再输入数量",
    scan_empty_tote: (slot) => (slot ? `请为格口 ${slot} 扫描一个空周转箱` : "请扫描一个空周转箱"),
    tote_looks_like: "周转箱条码形如",
    paused: "波次已暂停", paused_wait: "主管恢复波次之前不能确认拣货，请原地等待。",
    in_hand: (n) => `手上还有 ${n} 件未放入周转箱。仍要退出吗？`, logout_anyway: "仍然退出",
    moved_to: (task, to) => `${task} → ${to}`,
    choose_work: "选择工作", menu: "菜单", menu_picking: "拣货", menu_receiving: "收货入库", menu_putaway: "上架", menu_replenishing: "补货", menu_counting: "盘点",
    receive: "收货入库", scan_po: "请扫采购单或送货单号", received: "已收", blind: "盲收", on_plate: "本托/箱",
    expiry: "效期", plate_total: "本托/箱总数", print_label: "打印标签", finish: "完成收货",
    finish_receipt: "完成收货", rest_in_transit: "未收的数量保留为在途。", close_short: "或：短收关闭采购单（原因）",
    close_short_button: "短收关闭", short_reason_hint: "原因，例如：供应商缺货", open_plates: "未关闭的托/箱",
    plates: "个托/箱已关闭",
    put_away: "上架", scan_lpn: "请扫托盘/箱标签（SSCC）", no_plates: "暂无待上架的托盘/箱", refresh: "刷新",
    go_to: "请送到", why_pick_face: "拣货位", why_pick: "拣货位", why_reserve: "存储位", why_none: "无",
    no_suggestion: "没有可用的建议库位，请联系主管。", release: "放回", location: "库位",
    confirm_qty: "确认数量", confirm: "确认", stored_at: "已上架到",
    why_elsewhere: (loc, sug) => `${loc} 不是建议库位 ${sug}，原因？`,
    reason_location_full: "库位已满", reason_location_blocked: "库位受阻", reason_closer: "更近", reason_other: "其他",
    menu_qc: "质检", qc_title: "入库质检", qc_scan_lpn: "请扫待检托盘/箱的标签（SSCC）",
    qc_waiting: (n) => (n ? `${n} 个托/箱待检` : "暂无待检的托/箱"), qc_sample: "抽样", qc_accept: "允收",
    qc_checked: "已检", qc_failed: "不合格", qc_remaining: (n) => `还需检验 ${n} 件`,
    qc_pass: "合格", qc_fail_why: "不合格？点原因：", qc_reject_early: "判退（主管）",
    qc_scan_other: "扫另一个标签可换托/箱。",
    qc_reason_damaged: "破损", qc_reason_wrong_item: "错货", qc_reason_expired: "已过期",
    qc_reason_short_dated: "效期不足", qc_reason_dirty: "脏污", qc_reason_other: "其他",
    qc_lot_passed: "本批合格", qc_lot_rejected: "本批判退",
    qc_result: (checked, failed, ac) => [`已检 ${checked} 件`, `不合格 ${failed} 件`, `允收 ${ac} 件`], qc_result_sep: "，",
    qc_pass_next: "合格品已可用，本托/箱等待上架。", qc_reject_next: "货物已冻结，退回供应商：",
    qc_scan_next: "请扫下一个托/箱",
  },
  en: {
    login: "Log in", user: "User", pin: "PIN", device: "Device", logout: "Log out",
    online: "online", offline: "offline", queued: (n) => `${n} scan(s) waiting`,
    start: "No task", get_work: "Get work", waiting: "Waiting for work…",
    scan_location: "Scan the location", scan_item: "Scan the item", qty: "Scan more or type the quantity",
    scan_tote: "Scan the tote", task_done: "Task finished", next_task: "Next task",
    to_pick: "Pick", counted: "Counted", picked: "Picked", slot: "Slot", tote: "Tote", lot: "Lot",
    lines: "lines", units: "units", short: "Short", skip: "Skip", set_qty: "Type quantity", ok: "OK",
    cancel: "Cancel", reasons: { empty: "Empty", damaged: "Damaged", not_found: "Not found", other: "Other" },
    short_reason: "Why short?", camera: "Camera", camera_unavailable: "Camera not available",
    login_failed: "Login failed", locked_out: "Too many failed logins. Try again later.",
    counting: "Counting", scan_item_first: "Scan the item once, then type the quantity",
    scan_empty_tote: (slot) => (slot ? `Scan an empty tote for slot ${slot}` : "Scan an empty tote"),
    tote_looks_like: "A tote code looks like",
    paused: "Wave paused", paused_wait: "Nothing can be confirmed until the supervisor resumes the wave. Please wait.",
    in_hand: (n) => `You hold ${n} unit(s) not in a tote yet. Log out anyway?`, logout_anyway: "Log out anyway",
    moved_to: (task, to) => `${task} → ${to}`,
    choose_work: "Choose work", menu: "Menu", menu_picking: "Pick", menu_receiving: "Receive", menu_putaway: "Put away", menu_replenishing: "Replenish", menu_counting: "Count",
    receive: "Receive goods", scan_po: "Scan the PO or delivery note", received: "Received", blind: "blind",
    on_plate: "On plate", expiry: "Exp", plate_total: "Units on this plate in all", print_label: "Print label",
    finish: "Finish", finish_receipt: "Finish receipt", rest_in_transit: "What was not received stays in transit.",
    close_short: "Or close the PO short (reason)", close_short_button: "Close short",
    short_reason_hint: "Reason, e.g. supplier out of stock", open_plates: "Open plates", plates: "plate(s) closed",
    put_away: "Put away", scan_lpn: "Scan a licence plate (SSCC)", no_plates: "No plates wait for putaway",
    refresh: "Refresh", go_to: "Take it to", why_pick_face: "pick face", why_pick: "pick location",
    why_reserve: "reserve", why_none: "none", no_suggestion: "No location to suggest. Ask the supervisor.",
    release: "Put back", location: "Location", confirm_qty: "Confirm the quantity", confirm: "Confirm",
    stored_at: "Put away at",
    why_elsewhere: (loc, sug) => `${loc} is not the suggested ${sug}. Why?`,
    reason_location_full: "Location full", reason_location_blocked: "Location blocked", reason_closer: "Closer",
    reason_other: "Other",
    menu_qc: "QC", qc_title: "Quality check", qc_scan_lpn: "Scan the label (SSCC) of a plate waiting for QC",
    qc_waiting: (n) => (n ? `${n} plate(s) wait for QC` : "No plates wait for QC"), qc_sample: "Sample",
    qc_accept: "Ac", qc_checked: "Checked", qc_failed: "Failed",
    qc_remaining: (n) => `${n} more to check`, qc_pass: "Pass", qc_fail_why: "Failed? Tap the reason:",
    qc_reject_early: "Reject the lot (supervisor)", qc_scan_other: "Scan another label to switch plates.",
    qc_reason_damaged: "Damaged", qc_reason_wrong_item: "Wrong item", qc_reason_expired: "Expired",
    qc_reason_short_dated: "Short-dated", qc_reason_dirty: "Dirty", qc_reason_other: "Other",
    qc_lot_passed: "Lot passed", qc_lot_rejected: "Lot rejected",
    qc_result: (checked, failed, ac) => [`${checked} checked`, `${failed} failed`, `accept up to ${ac}`],
    qc_result_sep: ", ",
    qc_pass_next: "Good units are available; the plate waits for putaway.",
    qc_reject_next: "Units are held for the supplier. Return:", qc_scan_next: "Scan the next plate",
  },
};

let current = localStorage.getItem("wf.lang") || (navigator.language.startsWith("en") ? "en" : "zh");

export function lang() { return current; }

// The language the server is asked to answer in.
export function serverLang() { return current === "en" ? "en" : "zh-CN"; }

export function setLang(code) {
  current = WORDS[code] ? code : "zh";
  localStorage.setItem("wf.lang", current);
  document.documentElement.lang = current === "en" ? "en" : "zh-CN";
}

export function t(word, ...args) {
  const value = WORDS[current][word] ?? WORDS.zh[word] ?? word;
  return typeof value === "function" ? value(...args) : value;
}
