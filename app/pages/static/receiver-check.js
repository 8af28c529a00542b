// The dashboard's "Récepteur" panel: run a receiver check for a key and watch its cases
// arrive (issue 22). Reads and posts /_sandbox/admin/receiver-checks; while a check runs,
// it reads the key's latest check again every POLL_MS. Text enters the page through
// textContent and value only.

import { clone, slot, time } from "./dashboard-dom.js";

const API = "/_sandbox/admin/receiver-checks";
const POLL_MS = 400;
const STATUS = {
  running: ["En cours…", "badge--in_progress"],
  passed: ["Réussie", "badge--ok"],
  failed: ["Échouée", "badge--error"],
};
const VERDICT = {
  pass: ["Réussi", "badge--ok"],
  warn: ["Lent", "badge--warning"],
  fail: ["Échec", "badge--error"],
};
const EXPECT = { accept: "attendu : 2xx (accepter)", reject: "attendu : 4xx (refuser)" };
// Problems the panel explains in French; the others show their own `detail`.
const PROBLEMS = {
  no_webhook:
    "Cette clé n'a pas de webhook : indiquez une URL et un secret, ou enregistrez-en un avec PUT /_sandbox/webhook.",
  receiver_check_running: "Une vérification est déjà en cours pour cette clé.",
  validation_failed: "L'URL ou le secret n'est pas valable (URL http(s), secret whsec_…, pas d'adresse link-local).",
};

async function call(path, options) {
  const response = await fetch(path, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    ...options,
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(PROBLEMS[body.code] || body.detail || `Erreur ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function milliseconds(value) {
  return `${Math.round(value).toLocaleString("fr-FR")} ms`;
}

function buildCase(item) {
  const node = clone("tpl-receiver-case");
  const [label, badge] = VERDICT[item.verdict] || [item.verdict, "badge--unknown"];
  const verdict = slot(node, "verdict");
  verdict.textContent = label;
  verdict.classList.add(badge);
  slot(node, "name").textContent = item.name;
  slot(node, "meta").textContent = EXPECT[item.expect] || "";
  const answer =
    item.status_code === null
      ? "aucune réponse"
      : `dernière réponse ${item.status_code}, la plus lente en ${milliseconds(item.duration_ms)}`;
  slot(node, "what").textContent = `${item.title_fr} : ${answer}.`;
  if (item.hint_fr) {
    const hint = slot(node, "hint");
    hint.textContent = item.hint_fr;
    hint.hidden = false;
  }
  return node;
}

function show(panel, check) {
  const badge = slot(panel, "status");
  const summary = slot(panel, "summary");
  const cases = slot(panel, "cases");
  if (!check) {
    badge.hidden = true;
    summary.textContent = "Aucune vérification pour cette clé.";
    cases.replaceChildren();
    return;
  }
  const [label, className] = STATUS[check.status] || [check.status, "badge--unknown"];
  badge.hidden = false;
  badge.className = `badge ${className}`;
  badge.textContent = label;
  const failed = check.cases.filter((item) => item.verdict === "fail").length;
  const counted = `${check.cases.length} cas sur 12 jugés, ${failed} en échec`;
  summary.textContent = `Vérification de ${check.url} lancée à ${time(check.started_at)} : ${counted}.`;
  cases.replaceChildren(...check.cases.map(buildCase));
}

async function latest(panel) {
  const key = encodeURIComponent(panel.dataset.ownerKey);
  const answer = await call(`${API}?owner_key=${key}`);
  return answer.items[0] || null;
}

async function follow(panel) {
  for (;;) {
    const check = await latest(panel);
    show(panel, check);
    if (!check || check.status !== "running") return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function problem(panel, message) {
  const node = slot(panel, "problem");
  node.textContent = message || "";
  node.hidden = !message;
}

async function run(panel, form) {
  const button = slot(panel, "run");
  if (button.getAttribute("aria-busy") === "true") return;
  button.setAttribute("aria-busy", "true");
  problem(panel, "");
  const body = { owner_key: panel.dataset.ownerKey };
  const url = form.elements.url.value.trim();
  const secret = form.elements.secret.value.trim();
  if (url) body.url = url;
  if (secret) body.secret = secret;
  try {
    await call(API, { method: "POST", body: JSON.stringify(body) });
    await follow(panel);
  } catch (error) {
    problem(panel, error.message);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

for (const panel of document.querySelectorAll("#receiver [data-owner-key]")) {
  const form = slot(panel, "form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(panel, form);
  });
  follow(panel).catch((error) => problem(panel, error.message));
}

