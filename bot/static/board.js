// HR's board (board.html): the page's only script, served at <board>/app.js.
"use strict";
const params = new URLSearchParams(location.hash.slice(1));
const initData = params.get("tgWebAppData") || "";  // as Telegram opens a Mini App
const base = location.pathname.replace(/\/$/, "");
const $ = (id) => document.getElementById(id);
let view = null;

try {  // Telegram's colours, when it gives them
  const theme = JSON.parse(params.get("tgWebAppThemeParams") || "{}");
  const root = document.documentElement.style;
  if (theme.bg_color) root.setProperty("--bg", theme.bg_color);
  if (theme.text_color) root.setProperty("--text", theme.text_color);
  if (theme.hint_color) root.setProperty("--hint", theme.hint_color);
  if (theme.button_color) root.setProperty("--accent", theme.button_color);
  if (theme.secondary_bg_color) root.setProperty("--card", theme.secondary_bg_color);
} catch (e) { /* the default colours */ }

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

async function ask(path) {
  const response = await fetch(base + path, {headers: {Authorization: "tma " + initData}});
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || String(response.status));
  return body;
}

function fail(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

function options(select, all, values) {
  const chosen = select.value;
  select.replaceChildren(el("option", all));
  select.firstChild.value = "";
  for (const [value, label] of values) {
    const option = el("option", label);
    option.value = value;
    select.append(option);
  }
  select.value = chosen;
}

function drawComplaints() {
  const w = view.words, department = $("f-department").value, kind = $("f-kind").value,
        severity = $("f-severity").value, list = $("complaints");
  list.replaceChildren();
  const shown = view.complaints.filter((c) => (!department || c.departments.includes(department))
    && (!kind || c.kind === kind) && (!severity || c.severity === severity));
  $("open-title").textContent = `${w.open_complaints} (${shown.length})`;
  if (!shown.length) list.append(el("div", w.none_open, "hint"));
  for (const c of shown) {
    const late = c.steps.some((s) => s.overdue);
    const box = el("div", null, "complaint" + (late ? " late" : ""));
    box.dataset.number = c.number;
    const head = el("div", null, "head");
    if (c.link) {
      const link = el("a", "#" + c.number);
      link.href = c.link;
      head.append(link);
    } else {
      head.append("#" + c.number);
    }
    head.append(" " + c.customer);
    head.append(el("span", c.kind_label, "tag"));
    head.append(el("span", c.severity_label, "tag" + (c.severity === "major" ? " major" : "")));
    box.append(head, el("div", c.filed_by, "hint"));
    for (const s of c.steps) {
      const owner = s.owner ? ` · ${w.owner} ${s.owner}` : "";
      const due = s.due ? ` · ${w.due} ${s.due} · ${s.left}` : "";
      box.append(el("div", `${s.label} — ${s.department}${owner}${due}`,
                    "step" + (s.overdue ? " late" : "")));
    }
    list.append(box);
  }
  $("more").textContent = view.more ? w.more : "";
}

function drawFines() {
  if (view.fines === null) return;
  $("fines-part").hidden = false;
  const w = view.words, body = $("fines");
  $("fines-title").textContent = `${w.fines} · ${view.period_label}`;
  $("fines-head").replaceChildren(...w.fine_columns.split("|").map((name) => el("th", name)));
  const period = $("f-period");
  if (!period.options.length) {
    for (const [key, label] of view.periods) {
      const option = el("option", label);
      option.value = key;
      period.append(option);
    }
  }
  if (view.fine_departments.length) {  // HR and the admins: one department's ledger
    const department = $("f-fine-department");
    if (!department.options.length) options(department, w.all_departments, view.fine_departments);
    department.hidden = false;
  }
  body.replaceChildren();
  for (const f of view.fines) {
    const row = el("tr");
    for (const value of [f.levied_at, "#" + f.number, f.step, f.department, f.head, f.amount,
                         f.status]) row.append(el("td", value));
    body.append(row);
  }
  if (!view.fines.length) {
    const row = el("tr"), cell = el("td", w.none_fines, "hint");
    cell.colSpan = 7;
    row.append(cell);
    body.append(row);
  }
  $("fine-total").textContent = view.fine_total;
}

async function load() {
  try {
    view = await ask("/api/view?period=" + encodeURIComponent($("f-period").value || "month")
                     + "&department=" + encodeURIComponent($("f-fine-department").value));
    $("error").hidden = true;
  } catch (e) {
    fail(e.message);
    return;
  }
  const w = view.words;
  document.title = w.title;
  $("title").textContent = w.title;
  $("who").textContent = `${view.viewer} · ${view.scope_label}`;
  options($("f-department"), w.all_departments, view.departments.map((d) => [d, d]));
  options($("f-kind"), w.all_kinds, view.kinds);
  options($("f-severity"), w.all_severities, view.severities);
  drawComplaints();
  drawFines();
  if (view.charts) {
    if (!$("f-month").value) {  // last month, as /report
      const today = new Date(), last = new Date(today.getFullYear(), today.getMonth() - 1, 1);
      $("f-month").value = `${last.getFullYear()}-${String(last.getMonth() + 1).padStart(2, "0")}`;
    }
    $("charts-part").hidden = false;
    $("charts-title").textContent = w.charts;
    $("show-charts").textContent = w.load_charts;
  }
  $("board").hidden = false;
}

async function showCharts() {
  const box = $("charts");
  box.replaceChildren();
  try {
    const found = await ask("/api/charts?month=" + encodeURIComponent($("f-month").value));
    if (!found.images.length) box.append(el("div", view.words.no_charts, "hint"));
    for (const image of found.images) {
      const img = el("img");
      img.src = "data:image/png;base64," + image;
      img.alt = view.words.charts + " " + found.month;
      box.append(img);
    }
  } catch (e) {
    box.append(el("div", e.message, "error"));
  }
}

for (const id of ["f-department", "f-kind", "f-severity"]) $(id).addEventListener("change", drawComplaints);
$("f-period").addEventListener("change", load);
$("f-fine-department").addEventListener("change", load);
$("show-charts").addEventListener("click", showCharts);
load();  // (without launch data the server answers why, in the company's language)
