/* The control room: lists from /api/v1/floor/control, /summary, /goods-in and /connectors, kept current by
   the wall screen's Socket.IO events (namespace /floor, the page session's token); a slow poll
   only while the socket is down. Every action calls one /api/v1 endpoint and says what it did, in words,
   next to the form or list that caused it. */
(function () {
  "use strict";

  var T = JSON.parse(document.getElementById("control-texts").textContent);
  var POLL_MS = 30000, SAFETY_MS = 120000, EVENT_DELAY_MS = 250;
  var pickers = [], printers = [], zone = undefined, socket = null;
  var lastLoad = 0, pending = null, loading = null, again = false, planAsked = null;
  var waybillWaves = {};  // wave id -> its orders still waiting for a carrier's number (打单)

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k] == null ? "" : values[k]; });
  }
  function named(map, code) { return (map && map[code]) || code; }
  function age(s) { return s == null ? "–" : s < 3600 ? Math.floor(s / 60) + " min" : Math.floor(s / 3600) + " h"; }
  function localTime(iso) {
    if (!iso) return "–";
    var at = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
    try {
      return new Intl.DateTimeFormat(T.lang, { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit",
                                               hour12: false }).format(at);
    } catch (e) { return at.toLocaleTimeString(T.lang); }
  }
  function button(label, action, data, kind) {
    var attrs = Object.keys(data).map(function (k) { return " data-" + k + '="' + esc(data[k]) + '"'; }).join("");
    return '<button type="button" class="' + (kind || "") + '" data-action="' + action + '"' + attrs + ">" +
      esc(label) + "</button>";
  }
  function options(list, skip) {
    return list.filter(function (x) { return x !== skip; })
      .map(function (x) { return '<option value="' + esc(x) + '">' + esc(x) + "</option>"; }).join("");
  }
  function empty(cols, text) { return '<tr class="empty"><td colspan="' + cols + '">' + esc(text) + "</td></tr>"; }

  function call(method, url, body) {
    return fetch(url, { method: method, credentials: "same-origin", headers: { "Content-Type": "application/json" },
                        body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) { var e = new Error(j.message || j.code || r.statusText); e.status = r.status; throw e; }
          return j;
        });
      });
  }

  function say(el, text, bad) {
    el.textContent = text;
    el.className = "result " + (bad ? "error" : "ok");
  }
  function resultOf(node) {
    var host = node.closest("form, section");
    return host.querySelector(".result");
  }

  /* run an action; draw the lists again, then say what happened where it was asked */
  function act(el, promise, words) {
    el.className = "result busy";
    return promise.then(function (j) {
      return load().then(function () { say(el, words(j)); });
    }).catch(function (e) { say(el, e.words || e.message, true); });
  }

  // --- the lists ----------------------------------------------------------------------------------

  function load() {
    if (loading) { again = true; return loading; }
    lastLoad = Date.now();
    loading = Promise.all([call("GET", "/api/v1/floor/control"), call("GET", "/api/v1/floor/summary"),
                           call("GET", "/api/v1/floor/goods-in"),
                           call("GET", "/api/v1/floor/connectors").catch(function () { return null; }),
                           call("GET", "/api/v1/waybills/waves").catch(function () { return null; })])
      .then(function (r) {
        waybillWaves = {};
        ((r[4] && r[4].waves) || []).forEach(function (w) { waybillWaves[w.wave_id] = w.waiting; });
        draw(r[0], r[1]); drawGoodsIn(r[2]); drawConnectors(r[3]);
      })
      .catch(function () { setLink(false); })
      .then(function () {
        loading = null;
        if (again) { again = false; return load(); }
      });
    return loading;
  }

  /* an event says the floor changed: read it again soon (a burst of events, one read) */
  function soon() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; load(); }, EVENT_DELAY_MS);
  }

  function waveVerbs(w, cancellable) {
    var verbs = { planned: ["release"], released: ["pause"], picking: ["pause"], paused: ["resume"] }[w.status] || [];
    if (cancellable.indexOf(w.id) >= 0) verbs = verbs.concat(["cancel"]);
    return verbs;
  }
  var VERB_LOOK = { release: "", resume: "", pause: "secondary", cancel: "danger" };

  /* what the supervisor chose in a row's list (a picker to hand a task to, a printer to move
     jobs to) survives the redraw an event of the floor brings while they choose */
  function keptChoices() {
    var lists = "#tasks select, #printers select", kept = {};
    function rowOf(s) {
      var row = s.closest("tr");
      return row.dataset.task ? "task:" + row.dataset.task : "printer:" + row.dataset.printer;
    }
    document.querySelectorAll(lists).forEach(function (s) { kept[rowOf(s)] = s.value; });
    return function restore() {
      document.querySelectorAll(lists).forEach(function (s) {
        var value = kept[rowOf(s)];
        if (value && Array.prototype.some.call(s.options, function (o) { return o.value === value; })) s.value = value;
      });
    };
  }

  function draw(control, summary) {
    var restoreChoices = keptChoices();
    zone = summary.timezone || zone;
    pickers = control.pickers;
    printers = control.printers.map(function (p) { return p.code; });
    var cancellable = control.cancellable || [];
    var waves = control.planned.map(function (w) {
      return { id: w.id, code: w.code, status: w.status, strategy: w.strategy, orders: w.orders,
               lines: w.lines, done: null };
    }).concat(summary.waves.map(function (w) {
      return { id: w.wave, code: w.code, status: w.status, strategy: w.strategy, orders: w.orders,
               lines: w.lines_total, done: w.lines_done };
    }));
    $("waves").innerHTML = waves.map(function (w) {
      return '<tr data-wave="' + esc(w.code) + '" data-id="' + w.id + '" data-status="' + esc(w.status) + '"><td>' +
        esc(w.code) + '</td><td><span class="state state-' + esc(w.status) + '">' + esc(named(T.status, w.status)) +
        "</span></td><td>" + esc(named(T.strategy, w.strategy)) + '</td><td class="n">' + w.orders +
        '</td><td class="n lines">' + (w.done == null ? w.lines : w.done + "/" + w.lines) + '</td><td class="verbs">' +
        waveVerbs(w, cancellable).map(function (v) {
          return button(T[v], "wave", { wave: w.id, code: w.code, verb: v }, VERB_LOOK[v]);
        }).concat(waybillWaves[w.id] ? [button(fill(T.waybills.fetch, { n: waybillWaves[w.id] }), "waybills",
                                               { wave: w.id, code: w.code }, "secondary waybills")] : [])
        .join(" ") + "</td></tr>";
    }).join("") || empty(6, T.empty_waves);

    $("tasks").innerHTML = control.tasks.map(function (t) {
      return '<tr data-task="' + esc(t.code) + '"><td>' + esc(t.code) + "</td><td>" + esc(t.wave) + "</td><td>" +
        esc(named(T.status, t.status)) + "</td><td>" + esc(t.picker || "–") + '</td><td class="n">' + t.lines_done +
        "/" + t.lines_total + "</td><td>" + (pickers.length > (t.picker ? 1 : 0)
          ? '<select aria-label="picker">' + options(pickers, t.picker) + "</select> " +
            button(T.reassign, "reassign", { task: t.id, code: t.code }, "secondary")
          : esc(T.no_pickers)) + "</td></tr>";
    }).join("") || empty(6, T.empty_tasks);

    $("exceptions").innerHTML = summary.exceptions.items.map(exceptionRow).join("") ||
      empty(4, T.empty_exceptions);

    $("printers").innerHTML = control.printers.map(function (p) {
      var state = p.ok === false ? p.faults.map(function (f) { return named(T.faults, f); }).join(", ")
        : p.ok ? T.printer_ok : T.printer_unknown;
      var move = printers.length > 1 && (p.queued || p.failed)
        ? '<select aria-label="printer">' + options(printers, p.code) + "</select> " +
          button(T.move, "move", { printer: p.code }, "secondary") : "";
      return '<tr data-printer="' + esc(p.code) + '"><td>' + esc(p.code) + '</td><td class="' +
        (p.ok === false ? "error" : "") + '">' + esc(state) + '</td><td class="n">' + p.queued +
        '</td><td class="n">' + p.failed + "</td><td>" + move + "</td></tr>";
    }).join("") || empty(5, T.empty_printers);

    var chosen = $("trail-picker").value;
    $("trail-picker").innerHTML = options(pickers);
    if (chosen) $("trail-picker").value = chosen;
    restoreChoices();
  }

  function exceptionRow(e) {
    var what = esc(e.ref), todo = "";
    if (e.kind === "held" || e.kind === "backorder") {
      what = '<a href="/orders/' + encodeURIComponent(e.order) + '">' + esc(e.ref) + "</a>";
      if (e.detail) {
        what += " · " + esc(e.detail.split(",").filter(Boolean).map(function (c) { return named(T.holds, c); })
          .join(T.lang === "en" ? ", " : "、"));
      }
      todo = '<a class="button-link" href="/orders/' + encodeURIComponent(e.order) + '">' + esc(T.open_order) + "</a>";
    } else if (e.kind === "short_pick") {
      what = esc(e.sku) + " · " + esc(T.short) + " " + e.qty + " · " + esc(T.at) + " " + esc(e.ref) +
        (e.task ? " · " + esc(e.task) : "");
      if (!e.needs_count) todo = button(T.count, "count", { location: e.ref }, "secondary");
    } else if (e.kind === "count") {
      what = esc(e.ref);
    } else if (e.kind === "printer") {
      what = esc(e.ref) + " · " + esc((e.faults || []).map(function (f) { return named(T.faults, f); }).join(", "));
      if (printers.length > 1) {
        todo = '<select aria-label="printer">' + options(printers, e.ref) + "</select> " +
          button(T.move, "move", { printer: e.ref }, "secondary");
      }
    } else if (e.kind === "print_failed") {
      what = esc(e.ref) + " · " + esc(e.printer) + (e.detail ? " · " + esc(named(T.faults, e.detail)) : "");
      todo = button(T.reprint, "reprint", { job: e.job, ref: e.ref, printer: e.printer });
    }
    return '<tr data-kind="' + esc(e.kind) + '" data-ref="' + esc(e.ref) + '"><td>' + esc(named(T.kinds, e.kind)) +
      "</td><td>" + what + '</td><td class="n">' + age(e.age_s) + "</td><td>" + todo + "</td></tr>";
  }

  // --- live connectors ----------------------------------------------------------------------------
  /* a flag while a shop must be re-authorised or platform calls failed (平台对接); hidden otherwise */
  function drawConnectors(c) {
    var flag = $("connectors-flag");
    if (!c) return;
    var said = [];
    if (c.attention.length) {
      said.push(esc(fill(T.connectors.reauthorise, { shops: c.attention.map(function (s) { return s.shop; })
        .join(T.lang === "en" ? ", " : "、") })));
    }
    if (c.failed_calls) said.push(esc(c.failed_calls === 1 ? T.connectors.failed_one
                                      : fill(T.connectors.failed, { n: c.failed_calls })));
    flag.hidden = !said.length;
    flag.innerHTML = said.join(" · ") + (said.length && flag.dataset.link
      ? ' <a href="' + esc(flag.dataset.link) + '">' + esc(T.connectors.open) + " →</a>" : "");
  }

  // --- goods in -----------------------------------------------------------------------------------
  /* open receipts by code, and the plates waiting for QC and putaway by warehouse: drawn from
     /goods-in, changed at once by receipt.progress and putaway.waiting, read again a moment later */
  var goodsIn = { receipts: [], warehouses: {} };

  function drawGoodsIn(g) {
    goodsIn.receipts = g.receipts;
    goodsIn.warehouses = {};
    g.warehouses.forEach(function (w) { goodsIn.warehouses[w.warehouse] = w; });
    showGoodsIn();
  }

  function total(key) {
    return Object.keys(goodsIn.warehouses).reduce(function (n, w) { return n + goodsIn.warehouses[w][key]; }, 0);
  }

  function tile(id, n) {
    $(id).textContent = n;
    $(id).closest(".count-tile").classList.toggle("busy", n > 0);
  }

  function showGoodsIn() {
    tile("gi-receipts", goodsIn.receipts.length);
    tile("gi-qc", total("qc_waiting"));
    tile("gi-putaway", total("putaway_waiting"));
    $("goods-in").innerHTML = goodsIn.receipts.map(function (r) {
      var share = r.units_ordered ? Math.min(100, Math.round(100 * r.units_received / r.units_ordered)) : 0;
      return '<tr data-receipt="' + esc(r.receipt) + '"><td>' + esc(r.receipt) + "</td><td>" + esc(r.po) +
        "</td><td>" + esc(r.supplier_name || r.supplier) + "</td><td>" +
        esc(r.receiver_name ? r.receiver_name + " (" + r.receiver + ")" : r.receiver || "–") + "</td><td>" +
        esc(r.warehouse) + '</td><td class="n"><span class="units">' + r.units_received + " / " + r.units_ordered +
        '</span><span class="units-bar"><span style="width:' + share + '%"></span></span></td><td>' +
        '<time datetime="' + esc(r.started_at) + '">' + esc(localTime(r.started_at)) + "</time></td></tr>";
    }).join("") || empty(7, T.empty_goods_in);
  }

  /* receipt.progress: a receipt's order totals; a finished receipt leaves the list; one this page
     has not read yet (supplier, receiver) comes with the next read */
  function onReceipt(p) {
    var known = goodsIn.receipts.filter(function (r) { return r.receipt === p.receipt; })[0];
    if (known && p.open === false) {
      goodsIn.receipts = goodsIn.receipts.filter(function (r) { return r !== known; });
    } else if (known) {
      known.units_received = p.units_received;
      known.units_ordered = p.units_ordered;
      known.status = p.status;
    }
    showGoodsIn();
    soon();
  }

  /* putaway.waiting: the plates of a warehouse waiting for putaway that nobody holds */
  function onPutawayWaiting(p) {
    var w = goodsIn.warehouses[p.warehouse] ||
      (goodsIn.warehouses[p.warehouse] = { warehouse: p.warehouse, qc_waiting: 0, putaway_waiting: 0 });
    w.putaway_waiting = p.waiting;
    showGoodsIn();
    soon();
  }

  /* wave.progress carries the wave's own counts, its status and the rows of the tasks that
     changed: the rows show them at once, and the lists are read again a moment later */
  function onProgress(p) {
    var row = document.querySelector('#waves tr[data-id="' + p.wave + '"]');
    if (row && p.lines_total != null) row.querySelector(".lines").textContent = p.lines_done + "/" + p.lines_total;
    if (row && p.status && row.dataset.status !== p.status) {
      var badge = row.querySelector(".state");
      badge.className = "state state-" + p.status;
      badge.textContent = named(T.status, p.status);
    }
    (p.changed_tasks || []).forEach(function (t) {
      var task = document.querySelector('#tasks tr[data-task="' + t.code + '"]');
      if (!task) return;
      task.cells[2].textContent = named(T.status, t.status);
      task.cells[4].textContent = t.lines_done + "/" + t.lines_total;
    });
    soon();
  }

  // --- the actions --------------------------------------------------------------------------------

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-action]");
    if (!b) return;
    var d = b.dataset, row = b.closest("tr"), select = row && row.querySelector("select"), el = resultOf(b);
    if (d.action === "wave") {
      if (d.verb === "cancel" && !window.confirm(fill(T.confirm_cancel, { wave: d.code }))) return;
      act(el, call("POST", "/api/v1/floor/waves/" + d.wave + "/" + d.verb), function (j) {
        return fill(T["done_" + d.verb], { wave: j.code });
      });
    } else if (d.action === "waybills") {
      act(el, call("POST", "/api/v1/waves/" + d.wave + "/waybills").then(function (j) {
        if (!j.failed) return j;
        return load().then(function () { throw new Error(waybillWords(j)); });
      }), waybillWords);
    } else if (d.action === "reassign") {
      if (!window.confirm(fill(T.confirm_reassign, { task: d.code, picker: select.value }))) return;
      act(el, call("POST", "/api/v1/floor/tasks/" + d.task + "/reassign", { picker: select.value }), function (j) {
        return fill(T.done_reassign, { task: j.code, picker: j.picker });
      });
    } else if (d.action === "count") {
      act(el, count(d.location, "short pick"), function (j) { return fill(T.done_count, { location: j.location }); });
    } else if (d.action === "reprint") {
      act(el, call("POST", "/api/v1/floor/print-jobs/" + d.job + "/reprint"), function () {
        return fill(T.done_reprint_job, { ref: d.ref, printer: d.printer });
      });
    } else if (d.action === "move") {
      if (!window.confirm(fill(T.confirm_move, { from: d.printer, to: select.value }))) return;
      var to = select.value;
      act(el, call("POST", "/api/v1/floor/printers/" + encodeURIComponent(d.printer) + "/move-jobs", { to: to }),
          function (j) { return fill(j.moved === 1 ? T.done_move_one : T.done_move, { moved: j.moved, from: d.printer, to: to }); });
    }
  });

  /* 打单: how many numbers came, and why the first orders without one got none */
  function waybillWords(j) {
    var said = fill(T.waybills.done, { wave: j.wave, assigned: j.assigned, asked: j.asked, failed: j.failed });
    return said + j.failures.slice(0, 3).map(function (f) { return " " + f.order + ": " + f.reason; }).join(";");
  }

  function count(location, reason) {
    return call("POST", "/api/v1/floor/locations/" + encodeURIComponent(location) + "/count", { reason: reason })
      .catch(function (e) {
        if (e.status === 404) e.words = fill(T.no_location, { location: location });
        throw e;
      });
  }

  /* the order people see is its number (the channel's); the API takes the order's id */
  function orderNumbered(number) {
    return call("GET", "/api/v1/orders?limit=50&q=" + encodeURIComponent(number)).then(function (j) {
      var found = j.items.filter(function (o) { return o.external_id === number; });
      var e;
      if (found.length === 1) return found[0];
      e = new Error(fill(found.length ? T.many_orders : T.no_order, { order: number }));
      e.words = e.message;
      throw e;
    });
  }

  $("priority-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target, number = f.order.value.trim(), priority = parseInt(f.priority.value, 10);
    act(resultOf(f), orderNumbered(number).then(function (order) {
      return call("POST", "/api/v1/floor/orders/" + order.id + "/priority", { priority: priority });
    }), function (j) { return fill(T.done_priority, { order: j.external_id, priority: j.priority }); });
  });
  $("reprint-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var tracking = ev.target.tracking.value.trim();
    act(resultOf(ev.target), call("POST", "/api/v1/floor/labels/" + encodeURIComponent(tracking) + "/reprint")
      .catch(function (e) {
        if (e.status === 404) e.words = fill(T.no_label, { tracking: tracking });
        throw e;
      }), function (j) { return fill(T.done_reprint, { order: j.order, tracking: j.tracking, printer: j.printer }); });
  });
  $("count-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var location = ev.target.location.value.trim();
    act(resultOf(ev.target), count(location, ""), function (j) { return fill(T.done_count, { location: j.location }); });
  });
  $("trail-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var el = $("trail-result");
    call("GET", "/api/v1/floor/pickers/" + encodeURIComponent($("trail-picker").value) + "/trail").then(function (j) {
      el.textContent = "";
      $("trail").innerHTML = j.moves.map(function (m) {
        return '<tr><td><time datetime="' + esc(m.at) + '">' + esc(localTime(m.at)) + "</time></td><td>" +
          esc(named(T.reasons, m.reason)) + "</td><td>" + esc(m.sku) + "</td><td>" + esc(m.source || "–") +
          "</td><td>" + esc(m.target || "–") + '</td><td class="n">' + m.qty + "</td></tr>";
      }).join("") || empty(6, T.empty_trail);
    }).catch(function (e) { say(el, e.message, true); });
  });

  // --- planning -----------------------------------------------------------------------------------

  function planBody() {
    var f = $("plan-form"), max = parseInt(f.max_orders.value, 10);
    return { warehouse: f.warehouse.value, max_orders: max > 0 ? max : null,
             strategies: Array.prototype.map.call(f.querySelectorAll("input[name=strategies]:checked"),
                                                  function (c) { return c.value; }) };
  }

  function loadWarehouses() {
    return call("GET", "/api/v1/waves/plannable").then(function (j) {
      var select = $("plan-form").warehouse, chosen = select.value;
      select.innerHTML = j.items.map(function (w) {
        return '<option value="' + esc(w.code) + '">' + esc(fill(T.warehouse_waiting, { waiting: w.waiting,
          warehouse: w.name && w.name !== w.code ? w.code + " · " + w.name : w.code })) + "</option>";
      }).join("");
      var busiest = j.items.slice().sort(function (a, b) { return b.waiting - a.waiting; })[0];
      select.value = chosen || (busiest ? busiest.code : "");
    });
  }

  function showPreview(p) {
    $("plan-preview").hidden = false;
    $("plan-waves").innerHTML = p.waves.map(function (w) {
      return '<tr data-strategy="' + esc(w.strategy) + '"><td>' + esc(named(T.strategy, w.strategy)) +
        '</td><td class="n">' + w.orders + '</td><td class="n">' + w.lines + '</td><td class="n">' + w.units +
        '</td><td class="n">' + w.tasks + '</td><td class="n">' + w.planned_metres.toFixed(0) + " " + esc(T.metres) +
        '</td><td class="n">' + w.fcfs_metres.toFixed(0) + " " + esc(T.metres) + '</td><td class="n">' +
        w.saving_pct.toFixed(1) + " %</td></tr>";
    }).join("") || empty(8, T.plan_nothing);
    var taken = p.waves.reduce(function (n, w) { return n + w.orders; }, 0);
    $("plan-summary").textContent = p.waves.length ? fill(T.plan_summary, { waiting: p.waiting, taken: taken, left: p.left }) : "";
    $("plan-go").hidden = !p.waves.length;
  }

  $("plan-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var el = $("plan-result"), body = planBody();
    el.textContent = "";
    call("POST", "/api/v1/waves/plan/preview", body).then(function (p) {
      planAsked = JSON.stringify(body);
      showPreview(p);
    }).catch(function (e) { say(el, e.message, true); });
  });
  ["input", "change"].forEach(function (name) {
    $("plan-form").addEventListener(name, function () {
      if (planAsked && planAsked !== JSON.stringify(planBody())) {
        $("plan-go").hidden = true;
        say($("plan-result"), T.plan_stale, true);
      }
    });
  });
  $("plan-go").addEventListener("click", function () {
    var body = JSON.parse(planAsked);
    act($("plan-result"), call("POST", "/api/v1/waves/plan", body).then(function (j) {
      $("plan-go").hidden = true;
      $("plan-preview").hidden = true;
      $("plan-summary").textContent = "";
      planAsked = null;
      return loadWarehouses().then(function () { return j; });
    }), function (j) {
      return fill(T.done_plan, { waves: j.items.map(function (w) {
        return w.code + " (" + named(T.strategy, w.strategy) + ", " + w.orders + ")";
      }).join(", ") });
    });
  });

  // --- live ---------------------------------------------------------------------------------------

  function setLink(live) {
    var el = $("link");
    el.dataset.live = live ? "1" : "0";
    el.textContent = live ? T.live : T.offline;
    el.className = "link-state " + (live ? "live" : "offline");
  }

  function fetchToken(callback) {
    fetch("/wall/socket-token", { credentials: "same-origin", cache: "no-store", redirect: "manual" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (body) { callback({ token: body.token }); })
      .catch(function () { callback({ token: "" }); });
  }

  function connect() {
    if (typeof io !== "function") return;
    socket = io("/floor", { auth: fetchToken, transports: ["websocket"], reconnectionDelayMax: 5000 });
    socket.on("connect", function () { setLink(true); load(); });
    socket.on("disconnect", function () { setLink(false); });
    socket.on("connect_error", function () { setLink(false); });
    socket.on("wave.progress", onProgress);
    socket.on("receipt.progress", onReceipt);
    socket.on("putaway.waiting", onPutawayWaiting);
    // the cycle counts' panel (counts_panel.js) reads again on these
    ["count.changed", "count.waiting"].forEach(function (name) {
      socket.on(name, function (p) { document.dispatchEvent(new CustomEvent("wf:" + name, { detail: p })); });
    });
    ["task.changed", "task.assigned", "printer.status", "alert", "order.changed", "orders.imported"]
      .forEach(function (name) { socket.on(name, soon); });
    socket.on("session.ended", function (ended) {
      window.location = "/login?next=/control&ended=" + encodeURIComponent((ended && ended.code) || "");
    });
  }

  setLink(false);
  loadWarehouses();
  load();
  connect();
  // the fallback: a poll while the socket is down, and now and then what no event announces
  setInterval(function () {
    var live = socket && socket.connected;
    if (!live || Date.now() - lastLoad > SAFETY_MS) load();
  }, POLL_MS);
  window.controlState = function () { return { live: !!(socket && socket.connected), lastLoad: lastLoad }; };
})();
