/* The wall screen: draws the floor summary of its Socket.IO snapshot, applies events as they
   arrive, and redraws at most four times a second however many events come in.
   Disconnected, it says STALE until the next snapshot replaces its state. */
(function () {
  "use strict";

  var T = JSON.parse(document.getElementById("wall-texts").textContent);
  var OPEN_WAVES = { released: 1, picking: 1, paused: 1, picked: 1 };
  var REDRAW_MS = 250;          // at most ~4 redraws a second
  var RESYNC_MS = 5000;         // after events, rates, idle times and ETAs come from a fresh snapshot
  var state = null;             // the floor summary, as the last snapshot gave it plus events since
  var version = 0;              // version of the last snapshot; older events are dropped
  var receivedAt = Date.now();  // when the summary's idle times were true
  var exceptionsAt = Date.now();  // when the exceptions' ages were true (a wave.progress brings them too)
  var SHOWN_EXCEPTIONS = 6;     // what the panel holds on a 1080-line screen; a last line counts the rest
  var dirty = false, drawing = false, lastTick = 0, eventsSinceSync = 0, socket = null;
  var alerts = [];
  var goodsIn = {};             // open receipts' progress by receipt code (snapshot goods_in, receipt.progress)
  var chart = null, chartKey = "";

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function num(n) { return (n || 0).toLocaleString("en-US"); }
  // a count in a sentence: T[key] is [the form for one, the form for any other count]
  function plural(key, n) { return T[key][n === 1 ? 0 : 1].replace("%(n)s", num(n)); }
  // an empty panel says so, in a row (or item) of its own
  function orNone(html, tag, columns) {
    if (html) return html;
    return tag === "tr" ? '<tr class="none"><td colspan="' + columns + '">' + esc(T.none) + "</td></tr>"
                        : '<li class="none">' + esc(T.none) + "</li>";
  }
  // times are shown in the warehouse's zone, whatever the screen's computer is set to
  var formats = {};
  function parts(date) {
    var zone = (state && state.timezone) || "Asia/Shanghai";
    if (!formats[zone]) {
      formats[zone] = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour12: false, month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    }
    var out = {};
    formats[zone].formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  function hhmm(iso) {
    if (!iso) return "–";
    var d = parts(new Date(iso)), now = parts(new Date());
    var time = d.hour + ":" + d.minute;
    return d.month === now.month && d.day === now.day ? time : d.month + "-" + d.day + " " + time;
  }
  function duration(s) {
    if (s == null) return "–";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + T.minutes;
    return Math.floor(s / 3600) + "h" + ("0" + Math.floor((s % 3600) / 60)).slice(-2);
  }

  // --- connection state ---------------------------------------------------------------------

  function setLink(live, why) {
    document.body.classList.remove("connecting");
    document.body.classList.toggle("live", live);
    document.body.classList.toggle("stale", !live);
    $("link").textContent = live ? T.live : T.stale;
    var banner = $("stale-banner");
    banner.hidden = live;
    banner.textContent = why || T.stale_hint;
  }

  function fetchToken(callback) {
    fetch("/wall/socket-token", { credentials: "same-origin", cache: "no-store", redirect: "manual" })
      .then(function (r) {
        if (r.status !== 200) throw new Error("login");
        return r.json();
      })
      .then(function (body) { callback({ token: body.token }); })
      .catch(function (err) {
        if (err && err.message === "login") setLink(false, T.relogin);
        callback({ token: "" });  // refused; the client tries again later
      });
  }

  function connect() {
    socket = io("/floor", { auth: fetchToken, transports: ["websocket"], reconnectionDelayMax: 3000 });
    socket.on("snapshot", applySnapshot);
    socket.on("disconnect", function () { setLink(false); });
    socket.on("connect_error", function () { setLink(false); });
    socket.on("wave.progress", onWave);
    socket.on("task.changed", onTask);
    socket.on("printer.status", onPrinter);
    socket.on("alert", onAlert);
    socket.on("receipt.progress", onReceipt);
    socket.on("count.changed", function (p) { if (p && p.accuracy) drawAccuracy(p.accuracy); });
    socket.on("session.ended", function (ended) {  // the screen's session ended: its login, saying why
      setLink(false, ended && ended.text);
      setTimeout(function () {
        window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)
                               + "&ended=" + encodeURIComponent((ended && ended.code) || ""));
      }, 3000);
    });
  }

  function applySnapshot(snapshot) {
    if (!snapshot || !snapshot.floor) return;
    state = snapshot.floor;
    version = snapshot.version || state.version || 0;
    receivedAt = exceptionsAt = Date.now();
    eventsSinceSync = 0;
    alerts = [];
    goodsIn = {};
    (snapshot.goods_in || []).forEach(function (r) { goodsIn[r.receipt] = r; });
    drawAccuracy(snapshot.count_accuracy);
    setLink(true);
    redraw();
  }

  function resync() {
    if (socket && socket.connected && eventsSinceSync > 0) {
      eventsSinceSync = 0;
      socket.emit("snapshot", applySnapshot);
    }
  }

  // --- events ---------------------------------------------------------------------------------

  function fresh(payload) {
    if (!state || !payload || (payload.version && payload.version < version)) return false;
    eventsSinceSync++;
    return true;
  }

  function onWave(p) {
    if (!fresh(p)) return;
    (p.changed_tasks || []).forEach(applyTask);
    if (p.exceptions) {  // the floor's exceptions as of this progress (a short pick among them)
      state.exceptions = p.exceptions;
      exceptionsAt = Date.now();
    }
    var rows = state.waves, row = null, i;
    for (i = 0; i < rows.length; i++) if (rows[i].wave === p.wave) { row = rows[i]; break; }
    if (!OPEN_WAVES[p.status]) {
      if (row) rows.splice(i, 1);
      redraw();
      return;
    }
    if (!row) {
      row = { wave: p.wave, code: p.code, strategy: p.strategy, deadline: null, eta: null, late: false,
              units_done: 0, lines_done: 0 };
      rows.push(row);
    }
    var added = (p.units_done || 0) - (row.units_done || 0);
    ["status", "strategy", "tasks", "tasks_done", "lines_total", "lines_done", "units_total", "units_done"]
      .forEach(function (k) { if (p[k] !== undefined) row[k] = p[k]; });
    if (added > 0 && state.throughput && state.throughput.units.length) {
      var units = state.throughput.units;
      units[units.length - 1] += added;
      state.throughput.total += added;
    }
    redraw();
  }

  function onTask(p) {
    if (!fresh(p)) return;
    applyTask(p);
    redraw();
  }

  // a task's row in the picker list, from task.changed or a wave.progress's changed_tasks
  function applyTask(p) {
    state.pickers.forEach(function (picker) {
      if (picker.task && picker.task.id === p.task && picker.id !== p.picker) picker.task = null;
      if (picker.id === p.picker) {
        var done = p.status === "done" || p.status === "cancelled";
        picker.task = done ? null : Object.assign(picker.task && picker.task.id === p.task ? picker.task : {},
          { id: p.task, code: p.code, status: p.status, lines_done: p.lines_done, lines_total: p.lines_total });
      }
    });
  }

  function onPrinter(p) {
    if (!fresh(p)) return;
    var items = state.exceptions.items.filter(function (e) { return !(e.kind === "printer" && e.ref === p.printer); });
    if (p.ok === false) items.unshift({ kind: "printer", ref: p.printer, faults: p.faults, age_s: 0 });  // null: unknown
    state.exceptions.items = items;
    redraw();
  }

  function onAlert(p) {
    if (!fresh(p)) return;
    alerts.unshift({ kind: "alert", ref: (p.printer || "") + " " + (p.ref || p.code || ""), age_s: 0,
                     at: Date.now() });
    alerts = alerts.slice(0, 5);
    redraw();
  }

  function onReceipt(p) {
    if (!fresh(p)) return;
    if (p.open) goodsIn[p.receipt] = p;
    else delete goodsIn[p.receipt];
    redraw();
  }

  // --- drawing --------------------------------------------------------------------------------

  function redraw() { dirty = true; }

  // this week's inventory accuracy (库存准确率), small in the bar: by locations, by value in brackets
  function drawAccuracy(week) {
    var el = $("count-accuracy").querySelector("b");
    if (!week || !week.locations) { el.textContent = "–"; return; }
    el.textContent = (100 * week.accuracy).toFixed(1) + "%" +
      (week.accuracy_by_value == null ? "" : " (" + (100 * week.accuracy_by_value).toFixed(1) + "%)");
  }

  function frame(now) {
    if (dirty && !drawing && now - lastTick >= REDRAW_MS - 20) {
      drawing = true;
      lastTick = now;
      dirty = false;
      try { draw(); } finally { drawing = false; }
    }
  }

  function draw() {
    if (!state) return;
    var since = (Date.now() - receivedAt) / 1000;
    drawKpis();
    drawWaves();
    drawPickers(since);
    drawZones();
    drawExceptions((Date.now() - exceptionsAt) / 1000);
    drawChart();
  }

  function drawKpis() {
    $("units-today").textContent = num(state.throughput.total);
    var lines = 0;
    state.pickers.forEach(function (p) { lines += p.lines_per_hour || 0; });
    $("lines-hour").textContent = num(lines);
    $("due-orders").textContent = num(state.due.orders);
    $("due-overdue").textContent = state.due.overdue ? plural("overdue_n", state.due.overdue) : "";
    $("exception-count").textContent = num(state.exceptions.items.length + alerts.length);
    // units received against ordered, each purchase order counted once however many receipts it has open
    var orders = {}, received = 0, ordered = 0, open = 0;
    Object.keys(goodsIn).forEach(function (code) {
      var r = goodsIn[code];
      open++;
      orders[r.po] = r;
    });
    Object.keys(orders).forEach(function (po) { received += orders[po].units_received; ordered += orders[po].units_ordered; });
    $("goods-in").textContent = open ? num(received) : "–";  // units received of the units ordered
    $("goods-in-ordered").textContent = open ? "/ " + num(ordered) : "";
    $("goods-in-open").textContent = open ? "· " + plural("receipts_n", open) : "";
  }

  function drawWaves() {
    var html = state.waves.map(function (w) {
      var pct = w.lines_total ? Math.round(100 * w.lines_done / w.lines_total) : 0;
      return '<tr data-wave="' + w.wave + '">' +
        '<td><span class="wave-code">' + esc(w.code) + '</span><span class="status status-' + esc(w.status) + '">' +
          esc(T.status[w.status] || w.status) + '</span></td>' +
        '<td>' + esc(T.strategy[w.strategy] || w.strategy) + '</td>' +
        '<td><div class="progress"><i style="width:' + pct + '%"></i><span><span class="lines-done">' +
          w.lines_done + '</span>/' + w.lines_total + '</span></div></td>' +
        '<td class="n units"><span class="units-done">' + num(w.units_done) + '</span><small>/' +
          num(w.units_total) + '</small></td>' +
        '<td class="n when' + (w.late ? ' late' : '') + '">' + hhmm(w.eta) + '</td>' +
        '<td class="n when">' + hhmm(w.deadline) + '</td></tr>';
    }).join("");
    $("wave-rows").innerHTML = orNone(html, "tr", 6);
  }

  function drawPickers(since) {
    $("picker-rows").innerHTML = orNone(state.pickers.map(function (p) {
      var idle = p.idle_s == null ? null : p.idle_s + since;
      var task = p.task ? esc(p.task.code) + ' <span class="muted">' + p.task.lines_done + "/" +
        p.task.lines_total + "</span>" : '<span class="muted">' + esc(T.no_task) + "</span>";
      return '<tr data-picker="' + esc(p.code) + '"><td>' + esc(p.name || p.code) + "</td><td>" + task +
        '</td><td class="n">' + num(p.lines_per_hour) + '</td><td class="n' + (idle > 300 ? " idle-long" : "") +
        '">' + duration(idle) + "</td></tr>";
    }).join(""), "tr", 4);
  }

  function drawZones() {
    var most = 1;
    state.zones.forEach(function (z) { most = Math.max(most, z.open_lines); });
    $("zone-list").innerHTML = orNone(state.zones.map(function (z) {
      return '<li data-zone="' + esc(z.zone) + '"><span>' + esc(z.zone) + '</span><div class="bar" style="width:' +
        Math.round(100 * z.open_lines / most) + '%"></div><b>' + num(z.open_lines) + "</b></li>";
    }).join(""), "li");
  }

  function drawExceptions(since) {
    var all = alerts.map(function (a) { return Object.assign({}, a, { age_s: (Date.now() - a.at) / 1000 - since }); })
      .concat(state.exceptions.items);
    var items = all.slice(0, SHOWN_EXCEPTIONS);
    var more = all.length - items.length;
    $("exception-list").innerHTML = orNone(items.map(function (e) {
      var what = e.ref + (e.sku ? " " + e.sku + " -" + e.qty : "") + (e.faults ? " " + e.faults.join(",") : "");
      return '<li><span class="kind kind-' + esc(e.kind) + '">' + esc(T.kinds[e.kind] || e.kind) +
        '</span><span class="ref">' + esc(what) + '</span><span class="age">' +
        duration(e.age_s == null ? null : e.age_s + since) + "</span></li>";
    }).join(""), "li") + (more > 0 ? '<li class="more">' + esc(plural("more_n", more)) + "</li>" : "");
  }

  function drawChart() {
    var t = state.throughput, key = t.hours.join(",") + "|" + t.units.join(",");
    if (key === chartKey || typeof echarts === "undefined") return;
    chartKey = key;
    if (!chart) chart = echarts.init($("throughput-chart"), null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 70, right: 16, top: 16, bottom: 36 },
      xAxis: { type: "category", data: t.hours, axisLabel: { color: "#8ea2b8", fontSize: 18 } },
      yAxis: { type: "value", axisLabel: { color: "#8ea2b8", fontSize: 18 },
               splitLine: { lineStyle: { color: "#243244" } } },
      series: [{ type: "bar", data: t.units, itemStyle: { color: "#3aa0ff" },
                 label: { show: true, position: "top", color: "#e8eef5", fontSize: 18 } }]
    });
  }

  function tick() {
    var d = parts(new Date());
    $("clock").textContent = d.hour + ":" + d.minute + ":" + d.second;
  }

  // requestAnimationFrame does not run in a hidden tab; a timer keeps the wall current anyway
  setInterval(function () { frame(performance.now()); }, REDRAW_MS);
  setInterval(function () { tick(); if (state) dirty = true; }, 1000);
  setInterval(resync, RESYNC_MS);
  window.addEventListener("resize", function () { if (chart) chart.resize(); });
  tick();
  connect();
  window.wallState = function () { return { state: state, version: version, connected: !!(socket && socket.connected) }; };
})();
