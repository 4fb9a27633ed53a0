"use strict";
// The checkpoint operator page: open a vehicle, add every occupant, close it.
// Served by the edge agent itself; works with the uplink down (the outbox keeps the events).

const LABELS = {
  zh: {
    title: "卡口车辆核验", queued: "待上传", online: "已连接中心", offline: "中心未连接（数据已保存）",
    open_title: "登记车辆", plate: "车牌号", direction: "方向", entry: "进入", exit: "离开", lane: "车道",
    open: "开始核验", code: "健康码（扫码枪扫描或粘贴）", code_hint: "扫描或粘贴二维码内容",
    id_number: "身份证号（可选）", id_required: "身份证号（必填）", destination: "目的地",
    add: "添加乘员", close: "完成并上报", discard: "作废", recent: "最近完成",
    pass: "通过", held: "暂扣", fail: "未通过", no_occupants: "尚无乘员",
    camera_note: "摄像头扫到的健康码会加入此车。", save: "保存", remove: "移除",
    seat: "座位", plate_ok: "车牌有效", plate_bad: "车牌无效：", closed_ok: "已完成并保存：",
    from_camera: "摄像头",
    kind: { standard: "普通", new_energy: "新能源", trailer: "挂车", coach: "教练车",
            police: "警车", hong_kong_macao: "港澳" },
    reasons: {
      red_code: "红码", yellow_code: "黄码", bad_signature: "签名无效（伪造）",
      unknown_issuer: "签发方未知", expired: "已过期", not_yet_valid: "尚未生效", revoked: "已撤销",
      malformed: "格式错误", unsupported: "不支持的码", platform_unreachable: "平台不可达",
      holder_mismatch: "身份证与码主不符", test_too_old: "核酸检测超时", code_policy_failed: "不符合通行政策",
      id_missing: "缺少身份证", destination_missing: "缺少目的地", no_occupants: "尚无乘员",
      code_invalid: "码无效", code_unverified: "码未核验",
    },
    errors: {
      bad_plate: "车牌无效：", bad_lane: "车道无效：", bad_direction: "方向无效", already_open: "该车已在核验中：",
      too_many_open: "同时核验车辆过多：", not_a_health_code: "不是健康码：", bad_id_number: "身份证号无效：",
      id_not_enabled: "本卡口未启用身份证核验", duplicate_pass: "该码已登记：", vehicle_full: "乘员已满",
      empty_vehicle: "无乘员，不能完成", unknown_vehicle: "车辆已不存在", unknown_occupant: "乘员已不存在",
      destination_too_long: "目的地过长", network: "无法连接本机服务，请重试",
    },
  },
  en: {
    title: "Checkpoint vehicles", queued: "Queued for the hub", online: "hub connected", offline: "hub offline (work is kept)",
    open_title: "Open a vehicle", plate: "Plate", direction: "Direction", entry: "Entry", exit: "Exit", lane: "Lane",
    open: "Open vehicle", code: "Health code (scanner or paste)", code_hint: "scan or paste the QR text",
    id_number: "ID number (optional)", id_required: "ID number (required)", destination: "Destination",
    add: "Add occupant", close: "Close and report", discard: "Discard", recent: "Recently closed",
    pass: "PASS", held: "HELD", fail: "not passed", no_occupants: "no occupants yet",
    camera_note: "Codes the camera reads are added to this vehicle.", save: "Save", remove: "Remove",
    seat: "Seat", plate_ok: "Valid plate", plate_bad: "Invalid plate: ", closed_ok: "Closed and stored: ",
    from_camera: "camera",
    kind: { standard: "standard", new_energy: "new-energy", trailer: "trailer", coach: "coach",
            police: "police", hong_kong_macao: "Hong Kong/Macao" },
    reasons: {
      red_code: "red code", yellow_code: "yellow code", bad_signature: "bad signature (forged)",
      unknown_issuer: "unknown issuer", expired: "expired", not_yet_valid: "not yet valid", revoked: "revoked",
      malformed: "malformed", unsupported: "unsupported code", platform_unreachable: "platform unreachable",
      holder_mismatch: "ID does not match the pass holder", test_too_old: "test too old",
      code_policy_failed: "fails the site policy", id_missing: "ID missing", destination_missing: "destination missing",
      no_occupants: "no occupants yet", code_invalid: "invalid code", code_unverified: "code not verified",
    },
    errors: {
      bad_plate: "Invalid plate: ", bad_lane: "Invalid lane: ", bad_direction: "Invalid direction", already_open: "Already open: ",
      too_many_open: "Too many open vehicles: ", not_a_health_code: "Not a health code: ", bad_id_number: "Invalid ID number: ",
      id_not_enabled: "IDs are not enabled at this checkpoint", duplicate_pass: "Already added: ", vehicle_full: "Vehicle full",
      empty_vehicle: "A vehicle without occupants cannot close", unknown_vehicle: "That vehicle is gone",
      unknown_occupant: "That occupant is gone", destination_too_long: "Destination too long",
      network: "The local service did not answer; try again",
    },
  },
};

let lang = "zh";
let state = null;
let current = null;   // id of the vehicle this page works on
let note = null;      // { key, detail, cls } shown in #message
let plateCheck = null;
let lastRendered = "";
const $ = (id) => document.getElementById(id);
const t = () => LABELS[lang];
const reason = (r) => t().reasons[r] || r;

async function api(method, path, body) {
  try {
    const r = await fetch(path, {
      method, cache: "no-store",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = r.status === 204 ? null : await r.json();
    return { ok: r.ok, data };
  } catch (e) {
    return { ok: false, data: { error: "network", message: "" } };
  }
}

// A note for an error reply: its key is translated when shown, so a language switch applies.
function errorNote(data) {
  if (data && data.error) return { key: data.error, detail: data.message || "", cls: "problem" };
  return { detail: errorText(data), cls: "problem" };
}

function errorText(data) {
  if (data && data.error) return (t().errors[data.error] || "") + (data.message || "");
  if (data && Array.isArray(data.detail)) return data.detail.map((d) => d.msg).join("; ");
  return t().errors.network;
}

function show(el, text, cls) { el.textContent = text; el.className = cls || ""; }

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function currentVehicle() {
  if (!state) return null;
  return state.vehicles.find((v) => v.id === current) || null;
}

function renderStatic() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t()[n.dataset.t]; });
  document.querySelectorAll("[data-tph]").forEach((n) => { n.placeholder = t()[n.dataset.tph]; });
}

function renderPlateMsg() {
  const msg = $("plate-msg");
  const input = $("plate");
  if (!plateCheck || !input.value.trim()) { show(msg, ""); input.removeAttribute("aria-invalid"); $("open").disabled = false; return; }
  if (plateCheck.valid) {
    show(msg, `✓ ${t().plate_ok}: ${plateCheck.number} · ${t().kind[plateCheck.kind] || plateCheck.kind}`, "ok");
    input.setAttribute("aria-invalid", "false");
    $("open").disabled = false;
  } else {
    show(msg, t().plate_bad + plateCheck.message, "problem");
    input.setAttribute("aria-invalid", "true");
    $("open").disabled = true;
  }
}

function occupantItem(v, o) {
  const badge = el("span", { className: "badge " + (o.passed ? "pass" : "fail"), textContent: o.passed ? t().pass : t().fail });
  const who = [`${t().seat} ${o.seat}`, o.format, o.colour || o.status];
  if (o.source === "camera") who.push(t().from_camera);
  const head = el("div", { className: "head" }, el("strong", { textContent: who.join(" · ") }), badge);
  const li = el("li", { className: "occupant" + (o.passed ? " passed" : " failed") }, head);
  li.dataset.number = o.number;
  if (o.reasons.length) li.append(el("small", { className: "problem occupant-reasons", textContent: o.reasons.map(reason).join("、") }));
  const facts = [o.id_masked, o.destination].filter(Boolean).join(" · ");
  if (facts) li.append(el("small", { textContent: facts }));
  const fix = el("div", { className: "fix" });
  if (!o.destination) {
    fix.append(el("input", { placeholder: t().destination, maxLength: 200 }));
    fix.lastChild.dataset.field = "destination";
  }
  if (!o.id_masked && state.settings.ids) {
    fix.append(el("input", { placeholder: t().id_number, maxLength: 32 }));
    fix.lastChild.dataset.field = "id_number";
  }
  if (fix.childElementCount) {
    const save = el("button", { type: "button", textContent: t().save });
    save.dataset.action = "save";
    save.addEventListener("click", () => saveOccupant(v.id, o.number, fix));
    fix.append(save);
  }
  const remove = el("button", { type: "button", textContent: t().remove });
  remove.dataset.action = "remove";
  remove.addEventListener("click", () => removeOccupant(v.id, o.number));
  fix.append(remove);
  li.append(fix);
  return li;
}

function render() {
  renderStatic();
  renderPlateMsg();
  if (note) show($("message"), (note.key ? (t()[note.key] || t().errors[note.key] || "") : "") + (note.detail || ""), note.cls);
  if (!state) return;
  const up = state.uplink;
  show($("uplink"), up.connected ? t().online : t().offline, up.connected ? "up" : "down");
  $("queued").textContent = up.queued === null ? "–" : String(up.queued);
  $("id-label").querySelector("span").textContent = state.settings.require_id ? t().id_required : t().id_number;
  $("id-label").hidden = !state.settings.ids;
  const key = JSON.stringify([lang, current, state.vehicles, state.closed, state.camera_vehicle]);
  if (key === lastRendered) return;   // keep what the operator is typing in the list
  lastRendered = key;
  const nav = $("vehicles");
  nav.replaceChildren(...state.vehicles.map((v) => {
    const b = el("button", { type: "button", textContent: v.plate, className: v.id === current ? "current" : "" });
    b.addEventListener("click", () => { current = v.id; note = null; render(); $("code").focus(); });
    return b;
  }));
  const plus = el("button", { type: "button", textContent: "+" });
  plus.addEventListener("click", () => { current = null; render(); $("plate").focus(); });
  if (state.vehicles.length) nav.append(plus);
  const v = currentVehicle();
  $("open-form").hidden = v !== null;
  $("vehicle").hidden = v === null;
  if (v) {
    $("vehicle-plate").textContent = v.plate;
    $("vehicle-meta").textContent = `${t().kind[v.plate_kind] || v.plate_kind} · ${t()[v.direction]} · ${t().lane} ${v.lane}`;
    $("camera-note").hidden = state.camera_vehicle !== v.id;
    const verdict = $("vehicle-verdict");
    if (v.occupants.length === 0) show(verdict, t().no_occupants, "verdict");
    else show(verdict, v.passed ? t().pass : t().held, "verdict " + (v.passed ? "pass" : "held"));
    $("vehicle-reasons").textContent = v.passed ? "" : v.reasons.map(reason).join("、");
    $("occupants").replaceChildren(...v.occupants.map((o) => occupantItem(v, o)));
  }
  $("closed").replaceChildren(...state.closed.map((c) => el("li", {
    textContent: `${c.plate} · ${c.occupants} · ${c.passed ? t().pass : t().held}` +
      (c.reasons.length ? ` (${c.reasons.map(reason).join("、")})` : ""),
  })));
  const lanes = $("lane");
  if (lanes.options.length !== state.settings.lanes.length) {
    lanes.replaceChildren(...state.settings.lanes.map((l) => el("option", { value: l, textContent: l })));
    $("direction").value = state.settings.default_direction;
  }
}

async function refresh() {
  const r = await api("GET", "/api/state");
  if (!r.ok) return;  // the agent restarts: keep polling
  state = r.data;
  if (current && !state.vehicles.some((v) => v.id === current)) current = null;
  render();
}

let plateTimer = null;
$("plate").addEventListener("input", () => {
  clearTimeout(plateTimer);
  plateTimer = setTimeout(async () => {
    const text = $("plate").value;
    if (!text.trim()) { plateCheck = null; render(); return; }
    const r = await api("GET", "/api/plate?text=" + encodeURIComponent(text));
    if (r.ok && $("plate").value === text) { plateCheck = r.data; render(); }
  }, 120);
});

$("open-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await api("POST", "/api/vehicles", { plate: $("plate").value, direction: $("direction").value, lane: $("lane").value });
  if (!r.ok) { note = errorNote(r.data); render(); return; }
  current = r.data.id;
  note = null;
  $("plate").value = ""; plateCheck = null;
  await refresh();
  $("code").focus();
});

$("occupant-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!current || !$("code").value.trim()) return;
  const body = { code: $("code").value, id_number: $("id-number").value || null, destination: $("destination").value || null };
  const r = await api("POST", `/api/vehicles/${current}/occupants`, body);
  if (!r.ok) { show($("occupant-msg"), errorText(r.data), "problem"); $("code").select(); return; }
  show($("occupant-msg"), "");
  $("code").value = ""; $("id-number").value = ""; $("destination").value = "";
  await refresh();
  $("code").focus();
});

async function saveOccupant(vehicle, number, fix) {
  const body = {};
  fix.querySelectorAll("input[data-field]").forEach((i) => { if (i.value.trim()) body[i.dataset.field] = i.value; });
  const r = await api("PATCH", `/api/vehicles/${vehicle}/occupants/${number}`, body);
  show($("occupant-msg"), r.ok ? "" : errorText(r.data), r.ok ? "" : "problem");
  lastRendered = "";
  await refresh();
}

async function removeOccupant(vehicle, number) {
  const r = await api("DELETE", `/api/vehicles/${vehicle}/occupants/${number}`);
  if (!r.ok) show($("occupant-msg"), errorText(r.data), "problem");
  await refresh();
}

$("close").addEventListener("click", async () => {
  if (!current) return;
  const r = await api("POST", `/api/vehicles/${current}/close`);
  if (!r.ok) { note = errorNote(r.data); render(); return; }
  note = { key: "closed_ok", detail: `${r.data.plate} · ${r.data.passed ? t().pass : t().held}`, cls: r.data.passed ? "ok" : "problem" };
  current = null;
  await refresh();
  $("plate").focus();
});

$("discard").addEventListener("click", async () => {
  if (!current) return;
  await api("DELETE", `/api/vehicles/${current}`);
  current = null; note = null;
  await refresh();
});

document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => {
  lang = b.dataset.lang;
  show($("occupant-msg"), "", "");  // written in the old language; the next action rewrites it
  render();
}));
// Opened through the pairing link: the cookie is set, keep the token out of the history.
if (location.search) history.replaceState(null, "", location.pathname);
render();
refresh();
setInterval(refresh, 1000);
