// Calc dashboard: vanilla JavaScript over the gateway's public API on this origin. No build step, no dependencies.
// Polling, not push: the API has no event stream, and a few requests every second or two are cheap for the gateway.
"use strict";

(() => {
  const CLUSTER_EVERY_MS = 2000;
  const LISTS_EVERY_MS = 3000;
  const WATCH_EVERY_MS = 500;
  const CHART_SAMPLES = 60; // 2 minutes at one sample per 2 s
  const FINAL_CALCULATION = ["done", "failed", "timed_out", "cancelled"];
  const FINAL_JOB = ["done", "failed", "timed_out", "cancelled"];

  const $ = (id) => document.getElementById(id);

  // ---- The API --------------------------------------------------------------------------------------------------

  /**
   * One call to the gateway; never throws: {ok, status, body, retryAfter} (status 0 when the gateway is unreachable).
   * Every POST and PUT has an Idempotency-Key of its own, so the gateway may send it to another instance when the
   * first fails mid-request: a repeat makes nothing twice.
   */
  async function api(method, url, body) {
    const init = { method, headers: { Accept: "application/json" }, cache: "no-store" };
    if (method === "POST" || method === "PUT") {
      init.headers["Idempotency-Key"] = "dash-" + crypto.randomUUID();
    }
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      return { ok: false, status: 0, body: null, retryAfter: null };
    }
    let parsed = null;
    const text = await response.text().catch(() => "");
    if (text) {
      try { parsed = JSON.parse(text); } catch { parsed = null; }
    }
    return { ok: response.ok, status: response.status, body: parsed, retryAfter: retryAfterSeconds(response.headers.get("Retry-After")) };
  }

  function retryAfterSeconds(header) {
    if (!header) return null;
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
    const date = Date.parse(header); // Retry-After may also be an HTTP date
    return Number.isNaN(date) ? null : Math.max(1, Math.ceil((date - Date.now()) / 1000));
  }

  /** What went wrong, in words a user understands. `what` names the work ("calculation", "job"). */
  function describeError(result, what) {
    const wait = result.retryAfter ?? 1;
    const detail = result.body && typeof result.body.detail === "string" ? " " + result.body.detail : "";
    switch (result.status) {
      case 0: return "The gateway cannot be reached. Check that it is running; the page keeps trying.";
      case 400: return "Some values are not valid; see the messages next to the fields." + (fieldErrorsText(result.body) ? " " + fieldErrorsText(result.body) : "");
      case 404: return `This ${what} does not exist (any more).`;
      case 409: return `This ${what} cannot be changed in its current state.` + detail;
      case 413: return "The request is too large.";
      case 429: return `Too many requests from this browser: the gateway's rate limit was reached. Retry in ${wait} s.`;
      case 503: return /No instance of/.test(detail)
        // The gateway found no instance to try (none registered, or every circuit open): not a capacity problem.
        ? `No service instance can take this ${what} now.${detail} Retry in ${wait} s.`
        : `All instances are busy: no processing slot is free for this ${what} now. Retry in ${wait} s.` + detail;
      case 502: case 504: return `The service did not answer in time or failed while answering (${result.status}). Try again.`;
      default: return `Unexpected answer ${result.status} from the gateway.` + detail;
    }
  }

  function fieldErrorsText(problem) {
    if (!problem || !problem.errors) return "";
    return Object.values(problem.errors).flat().join(" ");
  }

  // ---- Field errors (400): next to their field ------------------------------------------------------------------

  /** Shows a 400's field errors next to their fields; returns the messages no field took. */
  function showFieldErrors(form, prefix, problem, rename = {}) {
    const leftover = [];
    for (const [key, messages] of Object.entries(problem?.errors ?? {})) {
      const name = rename[key.toLowerCase()] ?? key;
      const field = findField(form, name);
      const holder = field && $(`${prefix}-${field.name}-error`);
      if (field && holder) {
        holder.textContent = messages.join(" ");
        field.setAttribute("aria-invalid", "true");
      } else {
        leftover.push(...messages);
      }
    }
    const first = form.querySelector("[aria-invalid=true]");
    if (first) first.focus();
    return leftover;
  }

  function findField(form, key) {
    const lower = key.replace(/^\$\.?/, "").toLowerCase(); // "Init", "init", "$.init" all name the init field
    return [...form.elements].find((e) => e.name && e.name.toLowerCase() === lower) ?? null;
  }

  function clearErrors(form, prefix) {
    for (const field of form.elements) {
      if (!field.name) continue;
      field.removeAttribute("aria-invalid");
      const holder = $(`${prefix}-${field.name}-error`);
      if (holder) holder.textContent = "";
    }
  }

  function setMessage(element, text, kind = "error") {
    element.textContent = text;
    element.dataset.kind = text ? kind : "";
  }

  // ---- A new calculation ----------------------------------------------------------------------------------------

  const calc = { id: null, timer: null, countdown: null };

  function parseTerms(text) {
    return text.split(/[\s,;]+/).map((t) => t.trim()).filter((t) => t.length > 0);
  }

  /** Integers go as JSON strings: exact at any size (a JSON number past 2^53 would be rounded by JavaScript). */
  function asInteger(text) {
    return text.trim();
  }

  async function submitCalculation(event) {
    event.preventDefault();
    const form = $("calc-form");
    clearErrors(form, "calc");
    $("calc-terms-error").textContent = "";
    setMessage($("calc-message"), "");
    const type = $("calc-type").value;
    const terms = type === "factorial" ? [] : parseTerms($("calc-terms").value);
    const request = { type, init: asInteger($("calc-init").value), priority: $("calc-priority").value };
    const timeout = $("calc-timeout").value.trim();
    if (timeout !== "") request.timeoutSeconds = /^-?\d+$/.test(timeout) ? Number(timeout) : timeout;

    const button = $("calc-submit");
    button.disabled = true;
    try {
      const created = await api("POST", "/calculations", request);
      if (!created.ok) {
        failCreate(form, created, "calc-message");
        return;
      }
      const id = created.body.id;
      watchCalculation(id, created.body);
      for (let i = 0; i < terms.length; i++) {
        const added = await api("PUT", `/calculations/${encodeURIComponent(id)}`, { term: asInteger(terms[i]) });
        if (!added.ok) {
          if (added.status === 400) {
            const messages = Object.values(added.body?.errors ?? {}).flat();
            const termField = $("calc-terms");
            termField.setAttribute("aria-invalid", "true");
            $("calc-terms-error").textContent = `Term ${i + 1} (${terms[i]}): ${messages.join(" ") || "not valid."}`;
            termField.focus();
            setMessage($("calc-message"), `The calculation was created with ${i} term(s) and is still building; fix term ${i + 1} to go on.`);
          } else {
            setMessage($("calc-message"), describeError(added, "calculation"));
          }
          return;
        }
      }
      await finalizeCalculation(id);
    } finally {
      button.disabled = false;
    }
  }

  function failCreate(form, result, messageId) {
    const message = $(messageId);
    if (result.status === 400) {
      const formPrefix = messageId.split("-")[0];
      const leftover = showFieldErrors(form, formPrefix, result.body, formPrefix === "calc" ? { term: "terms" } : {});
      setMessage(message, leftover.length ? "Not valid: " + leftover.join(" ") : "Some values are not valid; see the messages next to the fields.");
    } else {
      setMessage(message, describeError(result, messageId.startsWith("calc") ? "calculation" : "job"));
    }
  }

  async function finalizeCalculation(id) {
    stopCountdown();
    $("calc-retry").hidden = true;
    const finalized = await api("PUT", `/calculations/${encodeURIComponent(id)}/finalize`);
    if (finalized.ok) {
      setMessage($("calc-message"), "Finalized; follow it below.", "info");
      renderCalculation(finalized.body);
      pollCalculation();
      return;
    }
    if (finalized.status === 503 || finalized.status === 429) {
      // Refused before anything was done: the calculation is still building and can simply be finalized again.
      startCountdown(finalized);
      $("calc-retry").hidden = false;
    } else {
      setMessage($("calc-message"), describeError(finalized, "calculation"));
    }
    pollCalculation();
  }

  function startCountdown(result) {
    let left = result.retryAfter ?? 1;
    const show = () => {
      const message = left > 0
        ? describeError({ ...result, retryAfter: left }, "calculation").replace(/ Retry in \d+ s\./, ` Retry in ${left} s.`)
        : describeError(result, "calculation").replace(/ Retry in \d+ s\./, " You can retry now.");
      setMessage($("calc-message"), message + " The calculation is kept as building.");
    };
    show();
    calc.countdown = setInterval(() => {
      left -= 1;
      show();
      if (left <= 0) stopCountdown();
    }, 1000);
  }

  function stopCountdown() {
    if (calc.countdown) clearInterval(calc.countdown);
    calc.countdown = null;
  }

  function watchCalculation(id, known) {
    calc.id = id;
    $("calc-watch").hidden = false;
    $("calc-watch-id").textContent = id;
    $("calc-watch-error").textContent = "";
    $("calc-retry").hidden = true;
    if (known) renderCalculation(known);
    pollCalculation();
  }

  function pollCalculation() {
    poll(calc, "/calculations", renderCalculation, FINAL_CALCULATION, "calc-watch-error", "calculation");
  }

  /**
   * Polls one calculation or job (state.id) every WATCH_EVERY_MS until it is final, gone (404) or another one is
   * watched in its place; errors are shown in the watch panel's error line.
   */
  function poll(state, path, render, finals, errorId, noun) {
    clearTimeout(state.timer);
    const id = state.id;
    const tick = async () => {
      if (state.id !== id) return;
      const result = await api("GET", `${path}/${encodeURIComponent(id)}`);
      if (state.id !== id) return;
      if (result.ok) {
        render(result.body);
        if (finals.includes(result.body.status)) return;
      } else {
        setMessage($(errorId), describeError(result, noun));
        if (result.status === 404) return;
      }
      state.timer = setTimeout(tick, WATCH_EVERY_MS);
    };
    tick();
  }

  function renderCalculation(c) {
    const status = $("calc-watch-status");
    status.textContent = label(c.status);
    status.dataset.status = c.status;
    markStates($("calc-watch-states"), ["building", "processing"], c.status);
    $("calc-watch-progress").textContent = c.progress == null ? "–" : `${c.progress}%`;
    $("calc-watch-digits").textContent = c.resultDigits == null ? "–" : String(c.resultDigits);
    $("calc-watch-result").textContent = c.result == null ? "" : String(c.result);
    setMessage($("calc-watch-error"), c.error ?? "");
    $("calc-cancel").hidden = !["building", "processing"].includes(c.status);
    if (c.status !== "building") $("calc-retry").hidden = true;
  }

  /** Marks the lifecycle steps reached; the last step names the final status. */
  function markStates(list, steps, status) {
    const final = !steps.includes(status);
    const reached = final ? steps.length : steps.indexOf(status);
    [...list.children].forEach((item, i) => {
      if (item.dataset.state === "final") item.textContent = final ? label(status) : "done";
      item.dataset.reached = String(i <= reached);
      item.dataset.current = String(final ? item.dataset.state === "final" : i === reached);
      if (item.dataset.current === "true") item.setAttribute("aria-current", "step"); else item.removeAttribute("aria-current");
    });
    list.dataset.outcome = final ? status : "";
  }

  async function cancelCalculation() {
    if (!calc.id) return;
    const result = await api("DELETE", `/calculations/${encodeURIComponent(calc.id)}`);
    if (result.ok) renderCalculation(result.body); else setMessage($("calc-watch-error"), describeError(result, "calculation"));
  }

  // ---- A new budget job -----------------------------------------------------------------------------------------

  const job = { id: null, timer: null };

  async function submitJob(event) {
    event.preventDefault();
    const form = $("job-form");
    clearErrors(form, "job");
    setMessage($("job-message"), "");
    const request = { budget: numberOrText($("job-budget").value), daysOnline: numberOrText($("job-days").value), priority: $("job-priority").value };
    const jobId = $("job-id").value.trim();
    if (jobId) request.jobId = jobId;
    const button = $("job-submit");
    button.disabled = true;
    try {
      const created = await api("POST", "/jobs/budget", request);
      if (!created.ok) {
        failCreate(form, created, "job-message");
        return;
      }
      setMessage($("job-message"), "Queued.", "info");
      watchJob(created.body.id, created.body);
    } finally {
      button.disabled = false;
    }
  }

  /** A number when the text is one (the API wants JSON numbers here); else the text, which the API then names as invalid. */
  function numberOrText(text) {
    const trimmed = text.trim();
    if (trimmed === "") return null;
    return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
  }

  function watchJob(id, known) {
    job.id = id;
    $("job-watch").hidden = false;
    $("job-watch-id").textContent = id;
    if (known) renderJob(known);
    poll(job, "/jobs", renderJob, FINAL_JOB, "job-watch-error", "job");
  }

  function renderJob(j) {
    const status = $("job-watch-status");
    status.textContent = label(j.status);
    status.dataset.status = j.status;
    markStates($("job-watch-states"), ["queued", "processing"], j.status);
    $("job-watch-worker").textContent = j.worker ?? "–";
    setMessage($("job-watch-error"), j.error ?? "");
    const days = j.budget?.distribution;
    const body = $("job-watch-days");
    body.replaceChildren();
    if (!days) {
      $("job-watch-total").textContent = "–";
      return;
    }
    // Sum in cents: exact, as the service's split is.
    const cents = days.reduce((sum, d) => sum + Math.round(Number(d.amount) * 100), 0);
    $("job-watch-total").textContent = `${formatCents(cents)} of ${Number(j.budget.budget).toFixed(2)} over ${days.length} day(s)`;
    const shown = days.slice(0, 31);
    for (const d of shown) body.append(row([String(d.day), d.date, { text: Number(d.amount).toFixed(2), className: "num" }]));
    if (days.length > shown.length) body.append(row([{ text: `… ${days.length - shown.length} more days`, colSpan: 3 }]));
  }

  const formatCents = (cents) => `${cents < 0 ? "-" : ""}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, "0")}`;

  // ---- Lists with paging and filters ----------------------------------------------------------------------------

  const lists = {
    calc: { url: "/calculations", page: 1, what: "calculation", render: calculationRow },
    job: { url: "/jobs", page: 1, what: "job", render: jobRow },
  };

  async function refreshList(key) {
    const list = lists[key];
    const status = $(`${key}-filter`).value;
    const size = Number($(`${key}-page-size`).value);
    const query = new URLSearchParams({ page: String(list.page), pageSize: String(size) });
    if (status) query.set("status", status);
    const result = await api("GET", `${list.url}?${query}`);
    const message = $(`${key}-list-message`);
    if (!result.ok) {
      setMessage(message, describeError(result, list.what));
      return;
    }
    setMessage(message, "");
    const pages = Math.max(1, Math.ceil(result.body.total / size));
    if (list.page > pages) {
      list.page = pages;
      return refreshList(key);
    }
    $(`${key}-rows`).replaceChildren(...result.body.items.map(list.render));
    if (result.body.items.length === 0) $(`${key}-rows`).append(row([{ text: "Nothing here.", colSpan: 7 }]));
    $(`${key}-page`).textContent = `Page ${list.page} of ${pages} · ${result.body.total} ${list.what}(s)`;
    $(`${key}-prev`).disabled = list.page <= 1;
    $(`${key}-next`).disabled = list.page >= pages;
  }

  function calculationRow(c) {
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = c.id.slice(-8);
    open.title = `Watch ${c.id}`;
    open.setAttribute("aria-label", `Watch calculation ${c.id}`);
    open.addEventListener("click", () => watchCalculation(c.id));
    const result = c.result == null ? (c.resultDigits ? `${c.resultDigits} digits` : c.error ?? "") : String(c.result);
    const tr = row([{ node: open }, c.type, badge(c.status), c.priority, { text: shorten(result), title: result }, time(c.createdAt)]);
    tr.dataset.id = c.id;
    tr.dataset.status = c.status;
    return tr;
  }

  function jobRow(j) {
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = j.id.length > 12 ? j.id.slice(-8) : j.id;
    open.title = `Watch ${j.id}`;
    open.setAttribute("aria-label", `Watch job ${j.id}`);
    open.addEventListener("click", () => watchJob(j.id));
    const tr = row([{ node: open }, j.kind, badge(j.status), j.priority,
      { text: Number(j.budget?.budget ?? 0).toFixed(2), className: "num" }, { text: String(j.budget?.daysOnline ?? ""), className: "num" }, time(j.createdAt)]);
    tr.dataset.id = j.id;
    tr.dataset.status = j.status;
    return tr;
  }

  // ---- The cluster ----------------------------------------------------------------------------------------------

  const samples = [];
  let previous = null;

  async function refreshCluster() {
    const [status, calcDone, jobsDone] = await Promise.all([
      api("GET", "/status"),
      api("GET", "/calculations?status=done&pageSize=1"),
      api("GET", "/jobs?status=done&pageSize=1"),
    ]);
    const connection = $("connection");
    if (!status.ok) {
      connection.textContent = describeError(status, "status");
      connection.dataset.kind = "error";
      return;
    }
    const now = Date.now();
    connection.textContent = `Connected · registry: ${status.body.registry === "cache" ? "live (cache)" : "last known (cache unreachable)"} · updated ${new Date(now).toLocaleTimeString()}`;
    connection.dataset.kind = status.body.registry === "cache" ? "ok" : "warn";
    renderCluster(status.body, now);
    sample(status.body, now, calcDone.ok ? calcDone.body.total : null, jobsDone.ok ? jobsDone.body.total : null);
  }

  function renderCluster(view, now) {
    const holder = $("cluster-services");
    const services = view.services ?? [];
    const instances = services.reduce((n, s) => n + s.instances.length, 0);
    $("cluster-summary").textContent = `${services.length} service(s), ${instances} instance(s)` +
      (view.lastRefresh ? ` · registry read ${age(view.lastRefresh, now)}` : "");
    holder.replaceChildren(...services.map((s) => serviceBlock(s, now)));
  }

  function serviceBlock(service, now) {
    const block = document.createElement("article");
    block.className = "service";
    block.setAttribute("data-testid", `service-${service.service}`);
    const t = service.totals;
    const title = document.createElement("h3");
    title.textContent = `${service.service} ${service.routes.length ? "(" + service.routes.join(", ") + ")" : ""}`;
    const totals = document.createElement("p");
    totals.className = "totals";
    totals.setAttribute("data-testid", `service-${service.service}-totals`);
    totals.textContent = `${t.instances} instance(s), ${t.available} available · ${t.processing} of ${t.capacity} slots processing · load ${percent(t.load)} · ${t.inFlight} request(s) in flight`;
    block.append(title, totals);
    if (service.instances.length === 0) {
      const none = document.createElement("p");
      none.className = "message";
      none.dataset.kind = "warn";
      none.textContent = "No instance registered: requests for this service get 503 until one starts.";
      block.append(none);
      return block;
    }
    const table = document.createElement("table");
    table.className = "grid";
    const caption = document.createElement("caption");
    caption.className = "visually-hidden";
    caption.textContent = `Instances of ${service.service}`;
    const head = document.createElement("thead");
    head.append(row(["Instance", "Address", "Load", "Processing", "Capacity", "In flight", "Circuit", "Openings", "Forwarded", "Failures", "Last heartbeat"], "th"));
    const body = document.createElement("tbody");
    for (const i of service.instances) {
      const meter = document.createElement("meter");
      meter.min = 0;
      meter.max = 1;
      meter.high = 0.8;
      meter.optimum = 0;
      meter.value = Math.min(1, i.load);
      meter.textContent = percent(i.load);
      const load = document.createElement("span");
      load.className = "load";
      load.append(meter, ` ${percent(i.load)}`);
      const tr = row([i.instanceId, i.baseUrl, { node: load }, num(i.processing), num(i.capacity), num(i.inFlight),
        circuit(i.circuit), num(i.circuitOpenings), num(i.forwarded), num(i.failures), age(i.lastHeartbeat, now)]);
      tr.setAttribute("data-testid", "instance-row");
      tr.dataset.instance = i.instanceId;
      tr.dataset.service = service.service;
      tr.dataset.circuit = i.circuit;
      body.append(tr);
    }
    table.append(caption, head, body);
    block.append(table);
    return block;
  }

  // ---- The chart ------------------------------------------------------------------------------------------------

  const series = [
    { key: "calcProcessing", name: "calculations processing", className: "s1" },
    { key: "jobsProcessing", name: "jobs processing", className: "s2" },
    { key: "finishedPerSecond", name: "finished per second", className: "s3" },
    { key: "requestsPerSecond", name: "requests per second (gateway)", className: "s4" },
  ];

  function sample(view, now, calcDone, jobsDone) {
    const services = view.services ?? [];
    const processing = (name) => services.find((s) => s.service === name)?.totals.processing ?? 0;
    const forwarded = services.flatMap((s) => s.instances).reduce((n, i) => n + i.forwarded, 0);
    const point = { at: now, calcProcessing: processing("calculations"), jobsProcessing: processing("jobs"), finishedPerSecond: 0, requestsPerSecond: 0 };
    if (previous) {
      const seconds = Math.max(0.001, (now - previous.at) / 1000);
      const finished = (calcDone ?? previous.calcDone ?? 0) + (jobsDone ?? previous.jobsDone ?? 0) - (previous.calcDone ?? 0) - (previous.jobsDone ?? 0);
      // Counters fall when an instance leaves: count no negative throughput.
      point.finishedPerSecond = Math.max(0, finished) / seconds;
      point.requestsPerSecond = Math.max(0, forwarded - previous.forwarded) / seconds;
    }
    previous = { at: now, forwarded, calcDone: calcDone ?? previous?.calcDone, jobsDone: jobsDone ?? previous?.jobsDone };
    samples.push(point);
    while (samples.length > CHART_SAMPLES) samples.shift();
    drawChart();
  }

  function drawChart() {
    const svg = $("chart");
    const ns = "http://www.w3.org/2000/svg";
    const width = 600, height = 180, left = 36, bottom = 18, top = 8;
    const max = Math.max(1, ...samples.flatMap((p) => series.map((s) => p[s.key])));
    const scaleMax = niceCeiling(max);
    const x = (i) => left + (i * (width - left - 4)) / Math.max(1, CHART_SAMPLES - 1);
    const y = (v) => top + (height - top - bottom) * (1 - v / scaleMax);
    for (const old of [...svg.querySelectorAll("g")]) old.remove();
    const g = document.createElementNS(ns, "g");
    for (const v of [0, scaleMax / 2, scaleMax]) {
      const line = document.createElementNS(ns, "line");
      line.setAttribute("x1", String(left));
      line.setAttribute("x2", String(width - 4));
      line.setAttribute("y1", String(y(v)));
      line.setAttribute("y2", String(y(v)));
      line.setAttribute("class", "gridline");
      const text = document.createElementNS(ns, "text");
      text.setAttribute("x", String(left - 4));
      text.setAttribute("y", String(y(v) + 4));
      text.setAttribute("class", "axis");
      text.textContent = formatNumber(v);
      g.append(line, text);
    }
    const offset = CHART_SAMPLES - samples.length; // newest sample on the right edge
    for (const s of series) {
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", samples.map((p, i) => `${x(i + offset).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(" "));
      line.setAttribute("class", `series ${s.className}`);
      line.setAttribute("data-series", s.key);
      g.append(line);
    }
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", String(width - 4));
    label.setAttribute("y", String(height - 4));
    label.setAttribute("class", "axis end");
    label.textContent = "now";
    g.append(label);
    svg.append(g);

    const last = samples[samples.length - 1];
    $("chart-legend").replaceChildren(...series.map((s) => {
      const item = document.createElement("li");
      item.className = s.className;
      item.setAttribute("data-testid", `legend-${s.key}`);
      item.textContent = `${s.name}: ${last ? formatNumber(last[s.key]) : "–"}`;
      return item;
    }));
  }

  function niceCeiling(value) {
    const power = 10 ** Math.floor(Math.log10(value));
    return [1, 2, 5, 10].map((m) => m * power).find((c) => c >= value) ?? 10 * power;
  }

  // ---- Small helpers --------------------------------------------------------------------------------------------

  /** A table row from cells: text, or {text|node, className, colSpan, title}. */
  function row(cells, tag = "td") {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement(tag);
      if (tag === "th") td.scope = "col";
      if (cell && typeof cell === "object" && !(cell instanceof Node)) {
        if (cell.node) td.append(cell.node); else td.textContent = cell.text ?? "";
        if (cell.className) td.className = cell.className;
        if (cell.colSpan) td.colSpan = cell.colSpan;
        if (cell.title) td.title = cell.title;
      } else if (cell instanceof Node) {
        td.append(cell);
      } else {
        td.textContent = cell ?? "";
      }
      tr.append(td);
    }
    return tr;
  }

  function badge(status) {
    const span = document.createElement("span");
    span.className = "badge";
    span.dataset.status = status;
    span.textContent = label(status);
    return span;
  }

  function circuit(state) {
    const span = document.createElement("span");
    span.className = "badge";
    span.dataset.circuit = state;
    span.textContent = { closed: "closed (healthy)", open: "open (failing)", half_open: "half-open (probing)", isolated: "isolated" }[state] ?? state;
    return span;
  }

  const label = (status) => String(status ?? "").replace(/_/g, " ");
  const num = (n) => ({ text: String(n), className: "num" });
  const percent = (load) => `${Math.round((load ?? 0) * 100)}%`;
  const shorten = (text) => (text.length > 24 ? text.slice(0, 21) + "…" : text);
  const formatNumber = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 1 : 0));

  function time(iso) {
    const date = new Date(iso);
    const element = document.createElement("time");
    element.dateTime = iso;
    element.textContent = date.toLocaleTimeString();
    element.title = date.toLocaleString();
    return element;
  }

  function age(iso, now) {
    const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
    return seconds < 1 ? "just now" : seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
  }

  /** Runs `work` now and then every `ms`, never overlapping itself; skips beats while the page is hidden. */
  function every(ms, work) {
    const beat = async () => {
      if (!document.hidden) {
        try { await work(); } catch (error) { console.error(error); }
      }
      setTimeout(beat, ms);
    };
    beat();
  }

  // ---- Wiring ---------------------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("calc-form").addEventListener("submit", submitCalculation);
    $("job-form").addEventListener("submit", submitJob);
    $("calc-retry").addEventListener("click", () => calc.id && finalizeCalculation(calc.id));
    $("calc-cancel").addEventListener("click", cancelCalculation);
    const typeField = $("calc-type");
    const syncTerms = () => {
      const factorial = typeField.value === "factorial";
      $("calc-terms").disabled = factorial;
      $("calc-terms-field").dataset.disabled = String(factorial);
    };
    typeField.addEventListener("change", syncTerms);
    syncTerms();
    for (const key of Object.keys(lists)) {
      const list = lists[key];
      const reset = () => { list.page = 1; refreshList(key); };
      $(`${key}-filter`).addEventListener("change", reset);
      $(`${key}-page-size`).addEventListener("change", reset);
      $(`${key}-prev`).addEventListener("click", () => { list.page = Math.max(1, list.page - 1); refreshList(key); });
      $(`${key}-next`).addEventListener("click", () => { list.page += 1; refreshList(key); });
      every(LISTS_EVERY_MS, () => refreshList(key));
    }
    every(CLUSTER_EVERY_MS, refreshCluster);
  });
})();
