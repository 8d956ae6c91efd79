/* The control room: lists from /api/v1/floor/control and /summary; every button calls one
   /api/v1/floor/... endpoint (the page's session authorises it) and reloads the lists. */
(function () {
  "use strict";

  var T = JSON.parse(document.getElementById("control-texts").textContent);
  var pickers = [], printers = [];

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function age(s) { return s == null ? "–" : s < 3600 ? Math.floor(s / 60) + " min" : Math.floor(s / 3600) + " h"; }
  function button(label, action, data) {
    var attrs = Object.keys(data).map(function (k) { return " data-" + k + '="' + esc(data[k]) + '"'; }).join("");
    return '<button type="button" data-action="' + action + '"' + attrs + ">" + esc(label) + "</button>";
  }
  function options(list, skip) {
    return list.filter(function (x) { return x !== skip; })
      .map(function (x) { return '<option value="' + esc(x) + '">' + esc(x) + "</option>"; }).join("");
  }

  function call(method, url, body) {
    return fetch(url, { method: method, credentials: "same-origin", headers: { "Content-Type": "application/json" },
                        body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) throw new Error((j && (j.message || j.code)) + (j && j.detail && typeof j.detail === "string" ? " (" + j.detail + ")" : ""));
          return j;
        });
      });
  }

  function say(text, bad) {
    var el = $("result");
    el.textContent = text;
    el.className = "result " + (bad ? "error" : "ok");
  }

  function act(promise) {
    // the lists are drawn again before the result shows, so what is on screen is current
    return promise.then(function (j) { return load().then(function () { say(T.done + " " + JSON.stringify(j)); }); })
      .catch(function (e) { say(e.message, true); });
  }

  function load() {
    return Promise.all([call("GET", "/api/v1/floor/control"), call("GET", "/api/v1/floor/summary")])
      .then(function (r) { draw(r[0], r[1]); })
      .catch(function (e) { say(e.message, true); });
  }

  function draw(control, summary) {
    pickers = control.pickers;
    printers = control.printers.map(function (p) { return p.code; });
    var waves = control.planned.map(function (w) {
      return { id: w.id, code: w.code, status: w.status, strategy: w.strategy, orders: w.orders, lines: w.lines };
    }).concat(summary.waves.map(function (w) {
      return { id: w.wave, code: w.code, status: w.status, strategy: w.strategy, orders: w.orders,
               lines: w.lines_done + "/" + w.lines_total };
    }));
    var verbs = { planned: ["release", "cancel"], released: ["pause", "cancel"], picking: ["pause"],
                  paused: ["resume", "cancel"], picked: [] };
    $("waves").innerHTML = waves.map(function (w) {
      return '<tr data-wave="' + esc(w.code) + '"><td>' + esc(w.code) + "</td><td>" + esc(w.status) + "</td><td>" +
        esc(w.strategy) + '</td><td class="n">' + w.orders + '</td><td class="n">' + w.lines + "</td><td>" +
        (verbs[w.status] || []).map(function (v) { return button(T[v], "wave", { wave: w.id, verb: v }); }).join(" ") +
        "</td></tr>";
    }).join("") || '<tr><td colspan="6">' + esc(T.none) + "</td></tr>";

    $("tasks").innerHTML = control.tasks.map(function (t) {
      return '<tr data-task="' + esc(t.code) + '"><td>' + esc(t.code) + "</td><td>" + esc(t.wave) + "</td><td>" +
        esc(t.status) + "</td><td>" + esc(t.picker || "–") + '</td><td class="n">' + t.lines_done + "/" +
        t.lines_total + '</td><td><select aria-label="picker">' + options(pickers, t.picker) + "</select> " +
        button(T.reassign, "reassign", { task: t.id }) + "</td></tr>";
    }).join("") || '<tr><td colspan="6">' + esc(T.none) + "</td></tr>";

    $("exceptions").innerHTML = summary.exceptions.items.map(function (e) {
      var what = e.ref + (e.sku ? " " + e.sku + " -" + e.qty : "") + (e.faults ? " " + e.faults.join(",") : "") +
        (e.detail ? " " + e.detail : "");
      var todo = "";
      if (e.kind === "short_pick" || e.kind === "count") todo = button(T.count, "count", { location: e.ref });
      if (e.kind === "print_failed") todo = button(T.reprint, "reprint", { job: e.job });
      if (e.kind === "printer") {
        todo = '<select aria-label="printer">' + options(printers, e.ref) + "</select> " +
          button(T.move, "move", { printer: e.ref });
      }
      return '<tr data-kind="' + esc(e.kind) + '" data-ref="' + esc(e.ref) + '"><td>' + esc(e.kind) + "</td><td>" +
        esc(what) + '</td><td class="n">' + age(e.age_s) + "</td><td>" + todo + "</td></tr>";
    }).join("") || '<tr><td colspan="4">' + esc(T.none) + "</td></tr>";

    $("printers").innerHTML = control.printers.map(function (p) {
      return '<tr data-printer="' + esc(p.code) + '"><td>' + esc(p.code) + "</td><td>" +
        esc(p.ok === false ? p.faults.join(",") : p.ok ? "OK" : "–") + '</td><td class="n">' + p.queued +
        '</td><td class="n">' + p.failed + '</td><td><select aria-label="printer">' + options(printers, p.code) +
        "</select> " + button(T.move, "move", { printer: p.code }) + "</td></tr>";
    }).join("") || '<tr><td colspan="5">' + esc(T.none) + "</td></tr>";

    var chosen = $("trail-picker").value;
    $("trail-picker").innerHTML = options(pickers);
    if (chosen) $("trail-picker").value = chosen;
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-action]");
    if (!b) return;
    var d = b.dataset, row = b.closest("tr"), select = row && row.querySelector("select");
    if (d.action === "wave") {
      if (d.verb === "cancel" && !window.confirm(T.confirm_cancel)) return;
      act(call("POST", "/api/v1/floor/waves/" + d.wave + "/" + d.verb));
    } else if (d.action === "reassign") {
      act(call("POST", "/api/v1/floor/tasks/" + d.task + "/reassign", { picker: select.value }));
    } else if (d.action === "count") {
      act(call("POST", "/api/v1/floor/locations/" + encodeURIComponent(d.location) + "/count", { reason: "short pick" }));
    } else if (d.action === "reprint") {
      act(call("POST", "/api/v1/floor/print-jobs/" + d.job + "/reprint"));
    } else if (d.action === "move") {
      act(call("POST", "/api/v1/floor/printers/" + encodeURIComponent(d.printer) + "/move-jobs", { to: select.value }));
    }
  });

  $("priority-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target;
    act(call("POST", "/api/v1/floor/orders/" + encodeURIComponent(f.order.value.trim()) + "/priority",
             { priority: parseInt(f.priority.value, 10) }));
  });
  $("reprint-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    act(call("POST", "/api/v1/floor/print-jobs/" + encodeURIComponent(ev.target.job.value.trim()) + "/reprint"));
  });
  $("count-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    act(call("POST", "/api/v1/floor/locations/" + encodeURIComponent(ev.target.location.value.trim()) + "/count",
             { reason: "" }));
  });
  $("trail-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    call("GET", "/api/v1/floor/pickers/" + encodeURIComponent($("trail-picker").value) + "/trail").then(function (j) {
      $("trail").innerHTML = j.moves.map(function (m) {
        return "<tr><td>" + esc(m.at) + "</td><td>" + esc(m.reason) + "</td><td>" + esc(m.sku) + "</td><td>" +
          esc(m.source) + "</td><td>" + esc(m.target) + '</td><td class="n">' + m.qty + "</td></tr>";
      }).join("") || '<tr><td colspan="6">' + esc(T.none) + "</td></tr>";
    }).catch(function (e) { say(e.message, true); });
  });

  load();
  setInterval(load, 30000);
})();
