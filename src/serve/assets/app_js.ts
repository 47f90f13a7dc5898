/**
 * The page's script: renders what `/api/` returns with `textContent` only (a file name is
 * never parsed as HTML), follows the running jobs through the server-sent event stream, and
 * sends the actions as JSON POSTs. Plain ES2017, no framework, no build step. Kept free of
 * backticks and dollar-brace so that it can live in this raw template string.
 *
 * @module
 */

/** Served at `/app.js`. */
export const APP_JS = String.raw`"use strict";
(function () {
  var PAGE = 50;
  var state = { config: null, counts: null, queueOffset: 0, finishedOffset: 0, events: null,
    reloadTimer: 0, lastCountsKey: "" };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function basename(p) { return p ? p.slice(p.lastIndexOf("/") + 1) : "-"; }
  function dirname(p) { return p ? p.slice(0, p.lastIndexOf("/")) : ""; }
  function formatBytes(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    var sign = n < 0 ? "-" : "";
    var v = Math.abs(n || 0);
    var u = 0;
    while (u < units.length - 1 && Math.round(v * 10) / 10 >= 1024) { v /= 1024; u++; }
    return sign + (u === 0 ? String(Math.round(v)) : v.toFixed(1)) + " " + units[u];
  }
  function formatDuration(sec) {
    var s = Math.max(0, Math.round(sec || 0));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    if (h) return h + "h" + String(m).padStart(2, "0") + "m";
    if (m) return m + "m" + String(r).padStart(2, "0") + "s";
    return r + "s";
  }
  // "YYYY-MM-DD HH:MM" in the browser's local time, as the CLI's localMinute (src/util/format.ts).
  function localTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    function two(n) { return String(n).padStart(2, "0"); }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes());
  }
  function say(text, isError) {
    var m = $("message");
    m.textContent = text || "";
    m.className = isError ? "message error" : "message";
  }

  function api(path, options) {
    var opts = options || {};
    opts.credentials = "same-origin";
    return fetch(path, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (res.status === 401) { showLogin(); }
        if (!res.ok) throw new Error(body.error || res.statusText);
        return body;
      });
    });
  }
  function post(path, body) {
    return api(path, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(body || {}) });
  }
  function act(promise, done) {
    return promise.then(function (r) { say(done); reloadLists(); return r; },
      function (err) { say(err.message, true); });
  }

  function showLogin() {
    $("login").hidden = false;
    $("login-token").focus();
  }
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    post("/api/login", { token: $("login-token").value }).then(function () {
      $("login").hidden = true;
      $("login-error").textContent = "";
      start();
    }, function (err) { $("login-error").textContent = err.message; });
  });

  function button(label, cls, onClick) {
    var b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function renderCounts(counts) {
    var box = $("counts");
    clear(box);
    ["running", "queued", "completed", "failed", "cancelled"].forEach(function (s) {
      box.appendChild(el("span", "chip " + s, s + " " + counts[s]));
    });
  }

  function progressText(p) {
    var parts = [];
    if (p.percent !== null && p.percent !== undefined) parts.push(p.percent.toFixed(1) + "%");
    if (p.fps !== null && p.fps !== undefined) parts.push(p.fps.toFixed(1) + " fps");
    if (p.speed !== null && p.speed !== undefined) parts.push(p.speed.toFixed(2) + "x");
    if (p.eta_sec !== null && p.eta_sec !== undefined) parts.push("ETA " + formatDuration(p.eta_sec));
    return parts.join(" \u00b7 ");
  }

  function segmentsText(seg) {
    if (!seg || typeof seg.done !== "number" || typeof seg.total !== "number") return "";
    var text = "segments " + seg.done + "/" + seg.total + " done";
    var running = Array.isArray(seg.running) ? seg.running : [];
    if (running.length) {
      text += " \u00b7 " + running.length + " running: " + running.map(function (r) {
        return r.segment + " on " + r.host + (typeof r.percent === "number" ? " " + Math.floor(r.percent) + "%" : "");
      }).join(", ");
    }
    return text;
  }

  function renderRunning(jobs) {
    var box = $("running");
    clear(box);
    if (!jobs.length) { box.appendChild(el("p", "empty", "Nothing is running.")); return; }
    jobs.forEach(function (job) {
      var card = el("div", "card");
      card.dataset.id = job.id;
      card.appendChild(el("div", "name", basename(job.file)));
      card.appendChild(el("div", "path", dirname(job.file)));
      var p = (job.live && job.live.progress) || {};
      var bar = el("div", "bar");
      var fill = el("div", "fill");
      fill.style.width = Math.max(0, Math.min(100, p.percent || 0)) + "%";
      bar.appendChild(fill);
      card.appendChild(bar);
      card.appendChild(el("div", "meta progress", progressText(p) || "starting"));
      var seg = segmentsText(job.live && job.live.segments);
      if (seg) card.appendChild(el("div", "meta segments", seg));
      var who = job.live ? job.live.worker.host + ":" + job.live.worker.pid : "";
      card.appendChild(el("div", "meta", "worker " + who + " \u00b7 " + job.id.slice(0, 8)));
      if (state.config && state.config.actions) {
        var actions = el("div", "actions");
        actions.appendChild(button("Stop", "danger", function () {
          if (!window.confirm("Stop " + basename(job.file) + "? The partial output is removed; the original stays.")) return;
          act(post("/api/jobs/" + job.id + "/cancel", { running: true }), "Stop requested");
        }));
        card.appendChild(actions);
      }
      box.appendChild(card);
    });
  }

  function renderWorkers(workers) {
    var box = $("workers");
    clear(box);
    if (!workers.length) { box.appendChild(el("p", "empty", "No worker is running a job.")); return; }
    workers.forEach(function (w) {
      var line = el("div", "row");
      line.appendChild(el("span", w.alive ? "completed" : "failed", w.alive ? "alive" : "stale"));
      line.appendChild(el("span", "name", w.host + " pid " + w.pid));
      line.appendChild(el("span", "meta", "heartbeat " + w.heartbeat_age_sec + " s ago"));
      box.appendChild(line);
    });
  }

  function renderStats(stats) {
    var t = stats.totals;
    var pct = t.source_bytes > 0 ? " (" + Math.round(t.saved_bytes / t.source_bytes * 100) + "%)" : "";
    $("stats-totals").textContent = t.jobs === 0 ? "No finished jobs yet." :
      "Saved " + formatBytes(t.saved_bytes) + " of " + formatBytes(t.source_bytes) + pct +
      " by replacing " + t.replaced + " files; " + formatDuration(t.time_sec) + " spent; " +
      t.failed + " failed, " + t.kept_original + " kept the original." +
      (stats.quality || []).map(function (q) {
        return " Quality (" + q.metric + "): mean " + q.mean.toFixed(4) + ", lowest " +
          q.lowest.toFixed(4) + " over " + q.files + " files, " + q.below_min + " below their minimum.";
      }).join("");
    var days = stats.per_day.slice(-30);
    var chart = $("chart");
    clear(chart);
    if (!days.length) return;
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    var W = 600, H = 140, base = 120;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "space saved per day");
    var max = Math.max.apply(null, days.map(function (d) { return Math.max(0, d.saved_bytes); }).concat([1]));
    var step = W / days.length;
    days.forEach(function (d, i) {
      var h = Math.max(1, Math.max(0, d.saved_bytes) / max * (base - 14));
      var r = document.createElementNS(NS, "rect");
      r.setAttribute("x", String(i * step + step * 0.15));
      r.setAttribute("width", String(step * 0.7));
      r.setAttribute("y", String(base - h));
      r.setAttribute("height", String(h));
      var title = document.createElementNS(NS, "title");
      title.textContent = d.key + ": " + formatBytes(d.saved_bytes) + " saved, " + d.jobs + " jobs";
      r.appendChild(title);
      svg.appendChild(r);
      if (days.length <= 10 || i % Math.ceil(days.length / 8) === 0) {
        var label = document.createElementNS(NS, "text");
        label.setAttribute("x", String(i * step + step / 2));
        label.setAttribute("y", String(H - 4));
        label.setAttribute("text-anchor", "middle");
        label.textContent = d.key.slice(5);
        svg.appendChild(label);
      }
    });
    var top = document.createElementNS(NS, "text");
    top.setAttribute("x", "2");
    top.setAttribute("y", "10");
    top.textContent = formatBytes(max);
    svg.appendChild(top);
    chart.appendChild(svg);
  }

  function pager(prefix, offset, total, onMove) {
    var first = total === 0 ? 0 : offset + 1;
    var last = Math.min(offset + PAGE, total);
    $(prefix + "-range").textContent = first + "\u2013" + last + " of " + total;
    $(prefix + "-prev").disabled = offset === 0;
    $(prefix + "-next").disabled = offset + PAGE >= total;
    $(prefix + "-prev").onclick = function () { onMove(Math.max(0, offset - PAGE)); };
    $(prefix + "-next").onclick = function () { onMove(offset + PAGE); };
  }

  function queueRow(job, pos) {
    var row = el("div", "row");
    row.dataset.id = job.id;
    row.appendChild(el("span", "pos", "#" + pos));
    var name = el("div");
    name.appendChild(el("div", "name", basename(job.file)));
    name.appendChild(el("div", "path", dirname(job.file) + " \u00b7 priority " + job.priority +
      " \u00b7 queued " + localTime(job.created_at)));
    row.appendChild(name);
    var actions = el("div", "actions");
    if (state.config && state.config.actions) {
      var input = el("input");
      input.type = "number";
      input.min = "0";
      input.value = String(job.priority);
      input.setAttribute("aria-label", "priority");
      actions.appendChild(input);
      actions.appendChild(button("Set", "", function () {
        act(post("/api/jobs/" + job.id + "/priority", { priority: Number(input.value) }), "Priority changed");
      }));
      actions.appendChild(button("Cancel", "danger cancel", function () {
        act(post("/api/jobs/" + job.id + "/cancel", {}), "Cancelled " + basename(job.file));
      }));
    }
    row.appendChild(actions);
    return row;
  }

  function qualityText(q) {
    if (!q || typeof q.achieved_score !== "number") return "";
    return " \u00b7 " + q.metric + " " + q.achieved_score.toFixed(4) + " (min " + q.min + ") at crf " + q.crf;
  }

  function outcomeText(job) {
    var r = job.result || {};
    if (job.status === "completed" && r.outcome === "replaced" && typeof r.saved_bytes === "number") {
      return "saved " + formatBytes(r.saved_bytes) + qualityText(r.quality);
    }
    if (job.status === "completed" && r.outcome === "kept_original") {
      return "kept the original" + qualityText(r.quality);
    }
    if (job.status === "completed") return String(r.outcome || "completed");
    if (job.status === "failed") return (job.error || "failed").split("\n")[0];
    return job.status;
  }

  function finishedRow(job) {
    var row = el("div", "row");
    row.dataset.id = job.id;
    row.appendChild(el("span", job.status, job.status));
    var main = el("div");
    main.appendChild(el("div", "name", basename(job.file)));
    main.appendChild(el("div", "path", dirname(job.file) + " \u00b7 " + localTime(job.finished_at || job.updated_at)));
    main.appendChild(el("div", "meta outcome", outcomeText(job)));
    row.appendChild(main);
    var actions = el("div", "actions");
    if (state.config && state.config.actions && (job.status === "failed" || job.status === "cancelled")) {
      actions.appendChild(button("Retry", "", function () {
        act(post("/api/jobs/" + job.id + "/retry", {}), "Queued again");
      }));
    }
    row.appendChild(actions);
    if (job.status === "failed") {
      var details = el("details");
      details.appendChild(el("summary", "", "error and ffmpeg log"));
      var pre = el("pre", "log", job.error || "");
      details.appendChild(pre);
      details.addEventListener("toggle", function () {
        if (!details.open || details.dataset.loaded) return;
        details.dataset.loaded = "1";
        api("/api/jobs/" + job.id + "/log").then(function (log) {
          pre.textContent = (job.error || "") + (log.path ? "\n\n" + log.path + ":\n" + log.text : "");
        }, function (err) { say(err.message, true); });
      });
      row.appendChild(details);
    }
    return row;
  }

  function loadQueue() {
    var offset = state.queueOffset;
    return api("/api/jobs?status=queued&limit=" + PAGE + "&offset=" + offset).then(function (jobs) {
      var box = $("queue");
      clear(box);
      if (!jobs.length) box.appendChild(el("p", "empty", "The queue is empty."));
      jobs.forEach(function (job, i) { box.appendChild(queueRow(job, offset + i + 1)); });
      pager("queue", offset, state.counts ? state.counts.queued : jobs.length, function (o) {
        state.queueOffset = o; loadQueue();
      });
    });
  }

  function loadFinished() {
    var offset = state.finishedOffset;
    return api("/api/jobs?status=finished&limit=" + PAGE + "&offset=" + offset).then(function (jobs) {
      var box = $("finished");
      clear(box);
      if (!jobs.length) box.appendChild(el("p", "empty", "No finished jobs."));
      jobs.forEach(function (job) { box.appendChild(finishedRow(job)); });
      var c = state.counts || { completed: 0, failed: 0, cancelled: 0 };
      pager("finished", offset, c.completed + c.failed + c.cancelled, function (o) {
        state.finishedOffset = o; loadFinished();
      });
    });
  }

  function loadStats() { return api("/api/stats").then(renderStats); }

  function reloadLists() {
    clearTimeout(state.reloadTimer);
    state.reloadTimer = setTimeout(function () {
      loadQueue().catch(function (e) { say(e.message, true); });
      loadFinished().catch(function (e) { say(e.message, true); });
      loadStats().catch(function (e) { say(e.message, true); });
    }, 200);
  }

  function onState(snapshot) {
    state.counts = snapshot.counts;
    renderCounts(snapshot.counts);
    renderRunning(snapshot.running);
    renderWorkers(snapshot.workers);
    var key = JSON.stringify(snapshot.counts);
    if (key !== state.lastCountsKey) { state.lastCountsKey = key; reloadLists(); }
  }

  function setupAdd(config) {
    if (!config.actions || !config.folders.length || !config.policies.length) return;
    $("s-add").hidden = false;
    var fill = function (select, items) {
      clear(select);
      items.forEach(function (item) {
        var o = el("option", "", item);
        o.value = item;
        select.appendChild(o);
      });
    };
    fill($("add-folder"), config.folders);
    fill($("add-policy"), config.policies);
    $("add-form").onsubmit = function (ev) {
      ev.preventDefault();
      $("add-result").textContent = "Looking at the files\u2026";
      post("/api/queue", { folder: $("add-folder").value, policy: $("add-policy").value }).then(function (r) {
        $("add-result").textContent = r.queued + " queued, " + r.skipped + " skipped, " + r.error + " errors";
        reloadLists();
      }, function (err) { $("add-result").textContent = err.message; });
    };
  }

  function connect() {
    if (state.events) state.events.close();
    var es = new EventSource("/api/events");
    state.events = es;
    es.addEventListener("state", function (ev) {
      $("conn").textContent = "live";
      $("conn").className = "conn live";
      onState(JSON.parse(ev.data));
    });
    es.onerror = function () {
      $("conn").textContent = "reconnecting";
      $("conn").className = "conn";
    };
  }

  function start() {
    api("/api/config").then(function (config) {
      state.config = config;
      setupAdd(config);
      connect();
    }, function (err) { if (!$("login").hidden) return; say(err.message, true); });
  }

  start();
})();
`;
