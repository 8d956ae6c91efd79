/* The control room's cycle counts (盘点): this week's inventory accuracy from /api/v1/counts/accuracy
   and the counts in review from /api/v1/counts/review, each line counted against expected; approve
   or reject calls /api/v1/counts/<code>/approve|reject. Read again when the control room's socket
   hears count.changed or count.waiting (control.js passes them on as wf:count events). */
(function () {
  "use strict";

  var T = JSON.parse(document.getElementById("counts-texts").textContent);
  var loading = null, again = false;

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k] == null ? "" : values[k]; });
  }
  function pct(share) { return share == null ? "–" : (100 * share).toFixed(1) + " %"; }
  function signed(n) { return n > 0 ? "+" + n : String(n); }
  function yuan(fen) { return (fen < 0 ? "-¥" : "¥") + (Math.abs(fen) / 100).toFixed(2); }

  function call(method, url, body) {
    return fetch(url, { method: method, credentials: "same-origin", headers: { "Content-Type": "application/json" },
                        body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) throw new Error(j.message || j.code || r.statusText);
          return j;
        });
      });
  }

  function say(text, bad) {
    var el = $("counts-result");
    el.textContent = text;
    el.className = "result " + (bad ? "error" : "ok");
  }

  /* one row per SKU of the recount (or of the count), the count's cells and buttons on its first */
  function rows(count) {
    var first = {};
    ((count.first_count && count.first_count.lines) || []).forEach(function (l) { first[l.sku + "|" + l.lot] = l; });
    var lines = count.lines.length ? count.lines : [{ sku: "–", lot: "", counted: 0, expected: 0, variance: 0,
                                                      variance_fen: 0 }];
    var counters = [count.first_count && count.first_count.counter, count.counter].filter(Boolean).join(" → ");
    return lines.map(function (l, i) {
      var head = i === 0;
      var span = ' rowspan="' + lines.length + '"';
      var before = first[l.sku + "|" + l.lot];
      return '<tr data-count="' + esc(count.code) + '" class="' + (l.variance ? "off" : "") + '">' +
        (head ? "<td" + span + ">" + esc(count.code) + "</td><td" + span + ">" + esc(count.location) + "</td><td" +
                span + ">" + esc(counters || "–") + "</td>" : "") +
        "<td>" + esc(l.sku) + (l.lot ? " · " + esc(l.lot) : "") + '</td><td class="n">' +
        (count.first_count ? (before ? before.counted : 0) : "–") + '</td><td class="n counted">' + l.counted +
        '</td><td class="n expected">' + l.expected + '</td><td class="n variance ' + (l.variance ? "error" : "") + '">' +
        signed(l.variance) + '</td><td class="n">' + yuan(l.variance_fen) + "</td>" +
        (head ? "<td" + span + ' class="verbs">' +
                '<button type="button" data-count-verb="approve" data-code="' + esc(count.code) + '" data-location="' +
                esc(count.location) + '">' + esc(T.approve) + "</button> " +
                '<button type="button" class="danger" data-count-verb="reject" data-code="' + esc(count.code) +
                '" data-location="' + esc(count.location) + '">' + esc(T.reject) + "</button></td>" : "") + "</tr>";
    }).join("");
  }

  function draw(review, accuracy) {
    var week = accuracy.current;
    $("counts-accuracy").textContent = pct(week.accuracy);
    $("counts-accuracy-of").textContent = week.locations
      ? fill(T.of, { clean: week.without_variance, counted: week.locations }) : T.none_counted;
    $("counts-accuracy-value").textContent = pct(week.accuracy_by_value);
    $("counts-review").textContent = review.items.length;
    $("counts-review").closest(".count-tile").classList.toggle("busy", review.items.length > 0);
    $("counts-review-rows").innerHTML = review.items.map(rows).join("") ||
      '<tr class="empty"><td colspan="10">' + esc(T.none) + "</td></tr>";
  }

  function load() {
    if (loading) { again = true; return loading; }
    loading = Promise.all([call("GET", "/api/v1/counts/review"), call("GET", "/api/v1/counts/accuracy?weeks=1")])
      .then(function (r) { draw(r[0], r[1]); })
      .catch(function (e) { say(e.message, true); })
      .then(function () {
        loading = null;
        if (again) { again = false; return load(); }
      });
    return loading;
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-count-verb]");
    if (!b) return;
    var d = b.dataset, verb = d.countVerb;
    if (verb === "reject" && !window.confirm(fill(T.confirm_reject, { code: d.code, location: d.location }))) return;
    b.disabled = true;
    call("POST", "/api/v1/counts/" + encodeURIComponent(d.code) + "/" + verb,
         verb === "reject" ? { note: T.reject_note } : {})
      .then(function (j) {
        return load().then(function () {
          say(fill(T[verb === "approve" ? "approved" : "rejected"],
                   { code: j.code, location: j.location, n: (j.adjustments || []).length }));
        });
      })
      .catch(function (e) { b.disabled = false; say(e.message, true); });
  });

  ["wf:count.changed", "wf:count.waiting"].forEach(function (name) { document.addEventListener(name, load); });
  load();
  setInterval(load, 60000);  // what no event announces (a count approved from the command line)
  window.countsPanel = { load: load };
})();
