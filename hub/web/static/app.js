// gridgate dashboard: login, live alert feed (SSE over fetch, so the token stays in a header),
// alert actions and detail, passages, devices and ledger coverage. No framework, no CDN.
import { LABELS, RESOLUTIONS, STEPS, SUMMARIES, TASK_RESULTS, VEHICLE_WHERE } from "./i18n.js";

const state = {
  token: sessionStorage.getItem("gridgate.token"),
  me: null,
  lang: localStorage.getItem("gridgate.lang") || "zh",
  alerts: new Map(),
  selected: null,
  stream: null,
  vehicles: [],
  passages: [],
};

const $ = (selector) => document.querySelector(selector);
const t = (key) => LABELS[state.lang][key] ?? key;
const fill = (key, parts) => t(key).replace(/\{(\d)\}/g, (_, n) => parts[Number(n) - 1] ?? "");

// ---- hub-written text (alert summaries, audit details) in the page's language ---------------
function summary(text) {
  if (state.lang === "en" || !text) return text;
  for (const [key, pattern] of SUMMARIES) {
    const found = text.match(pattern);
    if (found) return fill(`summary.${key}`, found.slice(1).map(piece));
  }
  return text;
}

function piece(part) {
  if (part === undefined || /^\d+$/.test(part)) return part ?? "";
  const vehicle = part.match(VEHICLE_WHERE);
  if (vehicle) {
    const [, plate, seat, lane, where, bound] = vehicle;
    return [fill("where.vehicle", [plate, seat]), lane ? fill("where.lane", [lane]) : null,
      fill("where.at", [place(where)]), bound ? fill("where.bound_for", [bound]) : null].filter(Boolean).join("，");
  }
  if (`gate_action.${part}` in LABELS.en) return t(`gate_action.${part}`);
  const inner = summary(part);
  return inner === part ? place(part) : inner;
}

function place(where) {  // "S0001/S0001-entry (entry)" → "S0001/S0001-entry（进）"
  return where.replace(/ \((entry|exit)\)$/, (_, direction) => `（${t(`direction.${direction}`)}）`);
}

function auditAction(action) {
  const [name, step] = action.split(":");
  if (name === "sweep" && step) return `${t("action.sweep")} · ${t(`step.${step}`)}`;
  return `action.${action}` in LABELS.en ? t(`action.${action}`) : action;
}

function auditDetail(entry) {
  if (entry.action !== "resolved") return summary(entry.detail);
  const [resolution, ...note] = entry.detail.split(": ");
  return RESOLUTIONS.includes(resolution) ? [t(`resolution.${resolution}`), ...note].join(": ") : entry.detail;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function when(iso) {
  return new Date(iso).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}), Authorization: `Bearer ${state.token}` };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    logout();
    throw new Error("logged out");
  }
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

function applyLabels() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  $("#lang").textContent = state.lang === "zh" ? "EN" : "中文";
  $("#live").textContent = state.stream ? t("live") : t("offline");
  if (state.me) renderAlerts();
  $("#vehicle-list").replaceChildren(...state.vehicles.map(vehicleCard));
  $("#passage-list").replaceChildren(...state.passages.map(passageCard));
}

// ---- login ---------------------------------------------------------------------------------
async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/auth/token", { method: "POST", body: new URLSearchParams(form) });
  if (!response.ok) {
    $("#login-error").textContent = t("bad_login");
    return;
  }
  state.token = (await response.json()).access_token;
  sessionStorage.setItem("gridgate.token", state.token);
  $("#login-error").textContent = "";
  await start();
}

function logout() {
  state.token = null;
  state.me = null;
  sessionStorage.removeItem("gridgate.token");
  if (state.stream) state.stream.abort();
  $("#app-view").hidden = true;
  $("#logout").hidden = true;
  $("#whoami").textContent = "";
  $("#login-view").hidden = false;
}

async function start() {
  if (!state.token) return logout();
  try {
    state.me = await api("/api/auth/me");
  } catch {
    return;
  }
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  $("#logout").hidden = false;
  $("#whoami").textContent = state.me.display_name;
  const staff = state.me.role === "admin" || state.me.role === "operator";
  document.body.classList.toggle("worker", !staff);
  for (const node of document.querySelectorAll("[data-staff-only]")) node.hidden = !staff;
  const groupAdmin = state.me.role === "group_admin";
  for (const tab of document.querySelectorAll(".tab")) {
    if (groupAdmin) tab.hidden = tab.dataset.tab !== "group";
    else if (tab.dataset.tab === "group") tab.hidden = true;
  }
  $("#live").hidden = groupAdmin;
  if (groupAdmin) return showTab("group");  // a group admin sees their members, no alerts
  await loadAlerts();
  openStream();
  const plate = location.hash.match(/^#household\/(.+)$/);
  if (plate) showHousehold(decodeURIComponent(plate[1]));
}

// ---- the household file a door plate opens ------------------------------------------------
async function showHousehold(code) {
  state.household = code;
  for (const body of document.querySelectorAll(".tab-body")) body.hidden = body.id !== "tab-household";
  renderHousehold(await api(`/api/households/${encodeURIComponent(code)}`));
}

function renderHousehold(file) {
  $("#household-address").textContent = file.address;
  $("#household-meta").textContent =
    `${file.address_code} · ${t("grid")} ${file.grid_id} · ${t("household_state")}: ${t(`state.${file.state}`)}`;
  $("#household-residents").replaceChildren(...file.residents.map((r) =>
    el("li", { "data-resident-id": r.resident_id },
      `${r.name} ${r.id_masked} ${r.phone} `,
      r.code_colour ? el("span", { class: `code-${r.code_colour}` }, el("span", { class: "code" }, t(`code.${r.code_colour}`))) : null,
      r.quarantine_until ? ` ${t("quarantined")}` : "",
      " ",
      el("button", { type: "button", "data-action": "move-out",
        onclick: () => householdPost(`residents/${encodeURIComponent(r.resident_id)}/move-out`) }, t("move_out")))));
  $("#household-open").replaceChildren(
    ...file.open_tasks.map((x) => el("li", {}, `${t(`task.${x.kind}`)} · ${x.day}`)),
    ...file.open_alerts.map((a) => el("li", {}, `${t(`rule.${a.rule}`)} · ${t(`state.${a.state}`)} · ${summary(a.summary)}`)));
  $("#household-visits").replaceChildren(...file.last_visits.map((v) =>
    el("li", { "data-result": v.result }, `${v.done_at ? when(v.done_at) : v.day} ${v.done_by ?? ""} ${t(`task.${v.kind}`)} ${v.result ? t(v.result) : ""} ${v.note}`)));
}

async function householdPost(path, body) {
  try {
    renderHousehold(await api(`/api/households/${encodeURIComponent(state.household)}/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body ?? {}),
    }));
  } catch (error) {
    window.alert(`${t("failed")}: ${error.message}`);
  }
}

async function loadGroup() {
  const group = await api(`/api/groups/${state.me.group_id}`);
  $("#group-name").textContent = group.name;
  $("#group-summary").textContent =
    `${t("code.red")} ${group.red} · ${t("code.yellow")} ${group.yellow} · ${t("test_overdue")} ${group.test_overdue}`;
  $("#group-table tbody").replaceChildren(...group.members.map((m) =>
    el("tr", { "data-resident-id": m.resident_id, class: `code-${m.colour ?? "unknown"}` },
      el("td", {}, `${m.name} ${m.id_masked}`),
      el("td", {}, el("span", { class: "code" }, m.colour ? t(`code.${m.colour}`) : "-")),
      el("td", {}, m.test_age_h === null ? "-" : `${m.test_age_h} h`),
      el("td", {}, m.test_overdue ? t("test_overdue") : ""),
      el("td", {}, m.quarantined ? t("quarantined") : ""))));
}

// ---- alerts --------------------------------------------------------------------------------
async function loadAlerts() {
  const alerts = await api("/api/alerts?active=true&limit=200");
  state.alerts = new Map(alerts.map((alert) => [alert.alert_id, alert]));
  renderAlerts();
}

function upsert(alert) {
  if (alert.state === "resolved") state.alerts.delete(alert.alert_id);
  else state.alerts.set(alert.alert_id, alert);
  renderAlerts();
  if (state.selected === alert.alert_id) showDetail(alert.alert_id);
}

async function openStream() {
  if (state.stream) state.stream.abort();
  const controller = new AbortController();
  state.stream = controller;
  let delay = 1000;
  while (!controller.signal.aborted) {
    try {
      const response = await fetch("/api/alerts/stream", {
        headers: { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" },
        signal: controller.signal,
      });
      if (response.status === 401) return logout();
      if (!response.ok) throw new Error(String(response.status));
      setLive(true);
      delay = 1000;
      await readEvents(response.body, (data) => upsert(JSON.parse(data)));
    } catch (error) {
      if (controller.signal.aborted) break;
    }
    setLive(false);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 30000);
    if (!controller.signal.aborted) await loadAlerts().catch(() => {});
  }
  setLive(false);
}

async function readEvents(body, onData) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const lines = block.split("\n");
      const kind = lines.find((line) => line.startsWith("event:"))?.slice(6).trim();
      const data = lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart());
      if (kind === "alert" && data.length) onData(data.join("\n"));
    }
  }
}

function setLive(live) {
  const badge = $("#live");
  badge.classList.toggle("off", !live);
  badge.textContent = live ? t("live") : t("offline");
}

async function act(alertId, action, body) {
  try {
    upsert(await api(`/api/alerts/${alertId}/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }));
  } catch (error) {
    window.alert(`${t("failed")}: ${error.message}`);
  }
}

function actions(alert) {
  const id = alert.alert_id;
  if (alert.state === "open") {
    return el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", "data-action": "acknowledge",
        onclick: () => act(id, "acknowledge", {}) }, t("acknowledge")));
  }
  const step = el("select", { "data-field": "step" }, STEPS.map((s) => el("option", { value: s }, t(`step.${s}`))));
  const resolution = el("select", { "data-field": "resolution" },
    RESOLUTIONS.map((r) => el("option", { value: r }, t(`resolution.${r}`))));
  const note = el("input", { "data-field": "note", placeholder: t("note"), maxlength: "1000" });
  return el("div", { class: "actions" },
    step,
    el("button", { type: "button", "data-action": "sweep",
      onclick: () => act(id, "sweep", { step: step.value, note: note.value }) }, t("sweep")),
    resolution, note,
    el("button", { type: "button", class: "primary", "data-action": "resolve",
      onclick: () => act(id, "resolve", { resolution: resolution.value, note: note.value }) }, t("resolve")));
}

function renderAlerts() {
  const feed = $("#alert-feed");
  const alerts = [...state.alerts.values()].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  feed.replaceChildren(...alerts.map((alert) =>
    el("li", { class: `card alert severity-${alert.severity}`, "data-alert-id": alert.alert_id,
      "data-state": alert.state, "data-rule": alert.rule },
      el("div", { class: "alert-head" },
        el("span", { class: "badge" }, t(`severity.${alert.severity}`)),
        el("strong", {}, t(`rule.${alert.rule}`)),
        alert.repeat_count > 1 ? el("span", { class: "repeat" }, `${alert.repeat_count}${t("repeats")}`) : null,
        el("span", { class: "state" }, t(`state.${alert.state}`)),
        alert.escalated ? el("span", { class: "escalated" }, t("escalated")) : null),
      el("div", { class: "summary" }, summary(alert.summary)),
      el("div", { class: "meta" }, `${t("grid")} ${alert.grid_id} · ${t("gate")} ${alert.gate_id ?? "-"} · ${when(alert.updated_at)}`),
      actions(alert),
      el("button", { type: "button", class: "link", "data-action": "details",
        onclick: () => showDetail(alert.alert_id) }, t("details")))));
  $("#alert-count").textContent = String(alerts.length);
  $("#feed-empty").hidden = alerts.length > 0;
}

async function showDetail(alertId) {
  state.selected = alertId;
  const detail = await api(`/api/alerts/${alertId}`);
  const { alert, seen, resident } = detail;
  const rows = (pairs) => el("dl", {}, pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v ?? "-")]));
  const colour = (c) => (c ? t(`code.${c}`) : null);
  $("#alert-detail").hidden = false;
  $("#alert-detail").replaceChildren(...[
    el("h3", {}, t(`rule.${alert.rule}`), " · ", t(`state.${alert.state}`)),
    el("p", { class: "summary" }, summary(alert.summary)),
    rows([[t("grid"), alert.grid_id], [t("site"), alert.site_id], [t("gate"), alert.gate_id],
      [t("raised"), when(alert.raised_at)]]),
    el("h4", {}, t("seen")),
    seen ? rows([
      [t("device"), `${seen.device_id} (${t(`direction.${seen.direction}`)}, ${t(`gate_action.${seen.gate_action}`)})`],
      [t("faces"), seen.faces.map((f) => `#${f.track_id} ${t(`decision.${f.edge_decision}`)} q=${f.quality.toFixed(2)}`).join(", ") || t("none")],
      [t("codes"), seen.codes.map((c) => [c.format, t(`code_status.${c.status}`), colour(c.colour), ...c.reasons]
        .filter(Boolean).join(" ")).join(", ") || t("none")],
      [t("plates"), seen.door_plates.join(", ") || t("none")],
    ]) : el("p", { class: "muted" }, t("none")),
    el("h4", {}, t("resident")),
    resident ? el("div", { class: "resident", "data-resident-id": resident.resident_id }, rows([
      [t("name"), resident.name], [t("id_number"), resident.id_masked], [t("phone"), resident.phone || null],
      [t("address"), resident.address_code], [t("code_colour"), colour(resident.code_colour)],
      ...(resident.quarantine_until ? [[t("quarantined"), resident.quarantine_until]] : []),
    ])) : el("p", { class: "muted" }, t("none")),
    detail.suggestions.length ? el("h4", {}, t("suggestions")) : null,
    detail.suggestions.length ? el("ul", { class: "suggestions" }, detail.suggestions.map((x) => el("li", {}, x))) : null,
    el("h4", {}, t("audit")),
    el("ol", { class: "audit" }, detail.audit.map((a) => el("li", { "data-action": a.action },
      `${when(a.at)} ${a.actor} ${auditAction(a.action)} ${auditDetail(a)}`))),
  ].filter(Boolean));
}

// ---- passages at the caller's gates --------------------------------------------------------
const PASSAGE_POLL_MS = 3000;

async function loadPassages() {
  state.passages = await api("/api/passages?limit=50");
  $("#passage-list").replaceChildren(...state.passages.map(passageCard));
  $("#passage-count").textContent = String(state.passages.length);
  $("#passages-empty").hidden = state.passages.length > 0;
}

function passageCard(p) {
  const action = p.action ?? "unknown";
  return el("li", { class: `card passage gate-${action}`, "data-event-id": p.event_id,
    "data-gate-action": action, "data-resident-id": p.resident_id },
    el("div", { class: "alert-head" },
      el("span", { class: "badge" }, p.action ? t(`gate_action.${p.action}`) : "-"),
      el("strong", {}, p.resident ?? t("unidentified")),
      el("span", { class: "state" }, t(`direction.${p.direction}`))),
    el("div", { class: "meta" }, `${when(p.occurred_at)} · ${t("site")} ${p.site_id} · ${t("gate")} ${p.gate_id} · ` +
      `${t("faces")} ${p.faces} · ${t("codes")} ${p.codes}`),
    p.reasons.length ? el("div", { class: "meta" }, p.reasons.join(", ")) : null);
}

// ---- devices and coverage ------------------------------------------------------------------
async function loadDevices() {
  const devices = await api("/api/devices");
  $("#device-table tbody").replaceChildren(...devices.map((d) =>
    el("tr", { "data-device-id": d.device_id, class: d.online ? "online" : "offline" },
      el("td", {}, d.device_id), el("td", {}, d.site_id),
      el("td", {}, d.online ? t("online") : t("offline_device")),
      el("td", {}, d.status ? d.status.fps.toFixed(1) : "-"),
      el("td", {}, d.status ? d.status.queue_depth : "-"),
      el("td", {}, d.status ? d.status.camera : "-"),
      el("td", {}, when(d.last_seen)),
      el("td", { class: "warnings" }, (d.status?.warnings ?? []).map((w) => t(`warning.${w}`)).join(", ")))));
}

async function loadCoverage() {
  const grids = await api("/api/coverage");
  $("#coverage-table tbody").replaceChildren(...grids.map((g) =>
    el("tr", { "data-grid-id": g.grid_id },
      el("td", {}, `${g.name} (${g.grid_id})`), el("td", {}, g.households), el("td", {}, g.occupied),
      el("td", {}, g.vacant), el("td", {}, g.residents),
      el("td", {}, el("span", { class: "bar" }, el("span", { style: `width:${g.faces_enrolled_pct}%` })),
        ` ${g.faces_enrolled} (${g.faces_enrolled_pct}%)`),
      el("td", {}, el("span", { class: "bar" }, el("span", { style: `width:${g.households_reached_pct}%` })),
        ` ${g.households_reached} (${g.households_reached_pct}%)`),
      el("td", {}, g.open_alerts), el("td", {}, g.plates_printed), el("td", {}, g.visited_today),
      el("td", {}, g.never_visited))));
}

async function loadTasks() {
  const staff = state.me.role !== "grid_worker";
  const tasks = await api(`/api/tasks${staff ? "" : "?mine=true"}`);
  $("#task-list").replaceChildren(...tasks.map((task) =>
    el("li", { class: "card task", "data-task-id": task.task_id, "data-status": task.status, "data-kind": task.kind },
      el("div", { class: "alert-head" },
        el("strong", {}, t(`task.${task.kind}`)),
        el("span", { class: "state" }, task.result ? t(task.result) : t("pending"))),
      el("div", { class: "meta" }, `${t("grid")} ${task.grid_id} · ${task.address_code ?? "-"} · ${t("assigned")} ${task.worker_id ?? "-"}`),
      el("div", { class: "actions" }, TASK_RESULTS.map((result) =>
        el("button", { type: "button", "data-result": result, class: task.result === result ? "primary" : null,
          onclick: () => recordTask(task.task_id, result) }, t(result)))))));
  $("#task-count").textContent = String(tasks.filter((task) => task.status === "pending").length);
  $("#tasks-empty").hidden = tasks.length > 0;
}

async function recordTask(taskId, result) {
  try {
    await api(`/api/tasks/${taskId}/result`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ result }),
    });
    await loadTasks();
  } catch (error) {
    window.alert(`${t("failed")}: ${error.message}`);
  }
}

async function loadReport() {
  const rows = await api("/api/reports/daily");
  const cells = ["households", "occupied", "vacant", "reached", "away", "unreachable", "alerts_opened", "alerts_closed"];
  $("#report-table tbody").replaceChildren(...rows.map((r) => r.site_id
    ? el("tr", { class: "site-row", "data-site-id": r.site_id }, el("td", {}, ""),
      el("td", {}, `${r.site_name} (${r.site_id})`),
      cells.map((c) => el("td", {}, r[c])), el("td", {}, `${r.tasks_done}/${r.tasks}`))
    : el("tr", { "data-grid-id": r.grid_id }, el("td", {}, `${r.grid_name} (${r.grid_id})`), el("td", {}, ""),
      cells.map((c) => el("td", {}, r[c])), el("td", {}, `${r.tasks_done}/${r.tasks}`))));
  const chart = (label, pairs) => el("figure", { class: "chart" }, el("figcaption", {}, label),
    pairs.map(([name, value, max]) => el("div", { class: "chart-row" }, el("span", {}, name),
      el("span", { class: "bar wide" }, el("span", { style: `width:${max ? (100 * value) / max : 0}%` })),
      el("span", {}, value))));
  const grids = rows.filter((r) => !r.site_id);
  $("#report-charts").replaceChildren(...grids.map((r) => chart(`${r.grid_name} (${r.grid_id})`, [
    [t("tasks_done"), r.tasks_done, r.tasks],
    [t("reached"), r.reached, r.tasks],
    [t("alerts_closed"), r.alerts_closed, Math.max(r.alerts_opened, r.alerts_closed)],
    ...rows.filter((x) => x.site_id && x.grid_id === r.grid_id).map((x) =>
      [`${t("alerts_opened")} · ${x.site_name}`, x.alerts_opened, Math.max(r.alerts_opened, 1)]),
  ])));
}

async function download(format) {
  const response = await fetch(`/api/reports/daily?format=${format}`, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) return window.alert(t("failed"));
  const link = el("a", { href: URL.createObjectURL(await response.blob()),
    download: `close-out.${format}` });
  link.click();
  URL.revokeObjectURL(link.href);
}

// ---- kiosk self-registrations ----------------------------------------------------------------
async function loadRegistrations() {
  const pending = await api("/api/registrations");
  $("#registration-list").replaceChildren(...pending.map((r) => {
    const note = el("input", { "data-field": "note", placeholder: t("note"), maxlength: "1000" });
    const decide = (action) => decideRegistration(r.request_id, action, note.value);
    return el("li", { class: `card registration${r.address_known ? "" : " flagged"}`,
      "data-request-id": r.request_id, "data-address-known": String(r.address_known) },
      el("div", { class: "alert-head" },
        el("strong", {}, r.name_masked || "-"),
        el("span", {}, r.address_code),
        r.address_known ? null : el("span", { class: "escalated" }, t("address_unknown"))),
      el("div", { class: "meta" }, `${t("grid")} ${r.grid_id ?? "-"} · ${t("kiosk")} ${r.device_id} · ` +
        `${t("received")} ${when(r.received_at)} · ${t("consent")} ${r.consent_version} · ` +
        `${t("quality")} ${r.face_quality.toFixed(2)}`),
      el("div", { class: "actions" }, note,
        el("button", { type: "button", class: "primary", "data-action": "approve",
          disabled: !r.address_known, onclick: () => decide("approve") }, t("approve")),
        el("button", { type: "button", "data-action": "reject", onclick: () => decide("reject") }, t("reject"))));
  }));
  $("#registration-count").textContent = String(pending.length);
  $("#registrations-empty").hidden = pending.length > 0;
}

async function decideRegistration(requestId, action, note) {
  try {
    await api(`/api/registrations/${requestId}/${action}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ note }),
    });
    await loadRegistrations();
  } catch (error) {
    window.alert(`${t("failed")}: ${error.message}`);
  }
}

// ---- checkpoint vehicles --------------------------------------------------------------------
const VEHICLE_PAGE = 50;

async function loadVehicles(more = false) {
  const form = $("#vehicle-filter");
  const params = new URLSearchParams({ limit: String(VEHICLE_PAGE), offset: String(more ? state.vehicles.length : 0) });
  if (form.plate.value.trim()) params.set("plate", form.plate.value.trim());
  if (form.held.checked) params.set("held", "true");
  const page = await api(`/api/vehicles?${params}`);
  state.vehicles = more ? [...state.vehicles, ...page.items] : page.items;
  $("#vehicle-list").replaceChildren(...state.vehicles.map(vehicleCard));
  $("#vehicle-count").textContent = String(page.total);
  $("#vehicles-empty").hidden = page.total > 0;
  $("#vehicles-more").hidden = state.vehicles.length >= page.total;
}

function vehicleCard(v) {
  const occupants = el("ul", { class: "plain occupants", hidden: true });
  const toggle = async () => {
    if (occupants.hidden) {
      const detail = await api(`/api/vehicles/${v.event_id}`);
      occupants.replaceChildren(...detail.occupants.map(occupantItem));
    }
    occupants.hidden = !occupants.hidden;
  };
  const verdict = v.held ? "held" : "pass";
  return el("li", { class: `card vehicle ${verdict}`, "data-event-id": v.event_id, "data-plate": v.plate,
    "data-held": String(v.held) },
    el("div", { class: "alert-head" },
      el("strong", { class: "plate" }, v.plate),
      el("span", { class: `verdict ${verdict}` }, t(`verdict.${verdict}`)),
      el("span", { class: "occupant-count" }, `${t("occupants")} ${v.occupant_count}`)),
    el("div", { class: "meta" },
      `${when(v.occurred_at)} · ${t("site")} ${v.site_id} · ${t("gate")} ${v.gate_id} · ${t("lane")} ${v.lane ?? "-"}`),
    el("button", { type: "button", class: "link", "data-action": "occupants", onclick: toggle }, t("occupants")),
    occupants);
}

function occupantItem(o) {
  const colour = o.colour ?? "unknown";
  return el("li", { class: `occupant code-${colour}`, "data-seat": String(o.seat), "data-colour": colour },
    `${t("seat")} ${o.seat} `,
    el("span", { class: `badge code-badge ${colour}` }, o.colour ? t(`code.${o.colour}`) : "-"),
    ` ${o.id_masked ?? ""} ${o.resident_id ? `${t("resident")} ${o.resident_id}` : t("not_in_ledger")}`,
    ` · ${t("destination")} ${o.destination ?? o.address_code ?? "-"} · ${t("destination_grid")} ${o.grid_id ?? "-"}`,
    o.passed ? null : el("span", { class: "escalated" }, ` ${o.reasons.join(", ")}`));
}

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.tab === name);
  for (const body of document.querySelectorAll(".tab-body")) body.hidden = body.id !== `tab-${name}`;
  if (name === "devices") loadDevices();
  if (name === "coverage") loadCoverage();
  if (name === "tasks") loadTasks();
  if (name === "reports") loadReport();
  if (name === "group") loadGroup();
  if (name === "registrations") loadRegistrations();
  if (name === "vehicles") loadVehicles();
  if (name === "passages") loadPassages();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("gridgate.lang", state.lang);
    applyLabels();
  });
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  const visit = $("#visit-form");
  visit.step.replaceChildren(...STEPS.map((s) => el("option", { value: s }, t(`step.${s}`))));
  visit.result.replaceChildren(...TASK_RESULTS.map((r) => el("option", { value: r }, t(r))));
  visit.addEventListener("submit", (event) => {
    event.preventDefault();
    householdPost("visits", { step: visit.step.value, result: visit.result.value, note: visit.note.value });
    visit.note.value = "";
  });
  $("#move-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    householdPost(`residents/${encodeURIComponent(event.target.resident_id.value)}/move-in`);
    event.target.reset();
  });
  $("#generate-tasks").addEventListener("click", async () => {
    await api("/api/tasks/generate", { method: "POST" }).catch((error) => window.alert(`${t("failed")}: ${error.message}`));
    await loadTasks();
  });
  $("#vehicle-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    loadVehicles().catch((error) => window.alert(`${t("failed")}: ${error.message}`));
  });
  $("#vehicles-more").addEventListener("click", () => loadVehicles(true));
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", () => download(button.dataset.download));
  }
  setInterval(() => {
    if (!state.me) return;
    if (!$("#tab-devices").hidden) loadDevices().catch(() => {});
    if (!$("#tab-coverage").hidden) loadCoverage().catch(() => {});
    if (!$("#tab-reports").hidden) loadReport().catch(() => {});
    if (!$("#tab-registrations").hidden) loadRegistrations().catch(() => {});
    const expanded = document.querySelector("#vehicle-list .occupants:not([hidden])");
    if (!$("#tab-vehicles").hidden && !expanded && state.vehicles.length <= VEHICLE_PAGE) {
      loadVehicles().catch(() => {});
    }
  }, 10000);
  setInterval(() => {  // passages are not on the alert stream: poll while the tab is open
    if (state.me && !$("#tab-passages").hidden) loadPassages().catch(() => {});
  }, PASSAGE_POLL_MS);
  applyLabels();
  start();
});
