// The dashboard's items: a draft, a journaled call, a delivery, an inbox, a key.
// Each builder clones its <template> from the page and fills it with textContent only;
// `ctx` gives what lives in the page's state (key names, open panels, actions).

import { STATUS, clone, element, plural, shortId, size, slot, time } from "./dashboard-dom.js";

const DELIVERY = { pending: "En attente", delivered: "Livrée", failed: "Échec" };
const DELIVERY_BADGE = { pending: "in_progress", delivered: "completed", failed: "cancelled" };
const SOURCE = { registered: "(enregistré par PUT /_sandbox/webhook)", fixtures: "(fixtures)" };
// Field-less issues about the request's body (app/pages/errors_fr.py, BODY_CODES); any
// other field-less issue is about the request as a whole, which may have had no body.
const BODY_CODES = new Set([
  "invalid_json",
  "json_invalid",
  "invalid_multipart",
  "body_timeout",
  "body_too_large",
  "file_too_large",
  "not_an_object",
  "too_deep",
  "invalid_number",
  "validation_failed",
  "unsupported_media_type",
  "client_closed_request",
]);
// The delivery worker's words for a failed attempt (app/delivery.py), in French.
const ATTEMPT_ERRORS = [
  [/^non-2xx response \((\d+)\)$/, (m) => `Réponse HTTP ${m[1]} du récepteur (2xx attendu)`],
  [/^timeout after (.+)s$/, (m) => `Pas de réponse du récepteur dans le délai (${m[1].replace(".", ",")} s)`],
  [/^connection error \((.+)\)$/, (m) => `Connexion au récepteur impossible (${m[1]})`],
  [/^cannot send \((.+)\)$/, (m) => `Envoi impossible (${m[1]})`],
];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

// --- Drafts ---------------------------------------------------------------------------

export function patientName(draft) {
  const p = draft.patient || {};
  const name = [p.first_name, p.last_name].filter(Boolean).join(" ");
  return name || "Patient non renseigné";
}

function timelineSteps(draft) {
  const steps = [
    ["Créée", draft.created_at],
    ["Ouverte", draft.visited_at],
    ["Publiée", draft.published_at],
  ];
  if (draft.status === "cancelled") {
    // Only what happened, then the cancellation.
    return steps.filter(([, at]) => at).concat([["Annulée", draft.cancelled_at, "cancelled"]]);
  }
  return steps.concat([["Terminée", draft.completed_at]]);
}

export function buildDraft(draft, ctx) {
  const node = clone("tpl-draft");
  const badge = slot(node, "status");
  badge.textContent = STATUS[draft.status] || draft.status;
  badge.classList.add(`badge--${draft.status}`);
  node.dataset.status = draft.status;
  slot(node, "patient").textContent = patientName(draft);
  slot(node, "owner").textContent = ctx.keyLabel(draft.owner_key);
  const id = slot(node, "id");
  id.textContent = shortId(draft.id);
  id.title = draft.id;
  const timeline = slot(node, "timeline");
  for (const [label, at, kind] of timelineSteps(draft)) {
    const step = element("li", "timeline__step" + (at ? " is-done" : "") + (kind ? ` is-${kind}` : ""));
    step.dataset.step = label;
    step.append(element("span", "timeline__label", label), element("span", "timeline__time", time(at)));
    timeline.append(step);
  }
  if (draft.autopilot_due_at) {
    const autopilot = slot(node, "autopilot");
    autopilot.hidden = false;
    autopilot.dataset.due = draft.autopilot_due_at;
    autopilot.textContent = autopilotText(draft.autopilot_due_at);
  }
  const files = slot(node, "files");
  for (const file of draft.files) {
    const li = element("li", "attachment");
    const link = element("a", "", file.filename);
    link.href = file.url;
    link.setAttribute("download", "");
    li.append(link, element("span", "attachment__meta", `${file.content_type} · ${size(file.size)}`));
    files.append(li);
  }
  if (!draft.files.length) files.remove();
  const page = slot(node, "page");
  page.href = draft.redirect_url;
  if (draft.status === "temporary") {
    page.textContent = "Ouvrir la page de la demande (l'ouverture verrouille les pièces jointes)";
  }
  return node;
}

function autopilotText(due) {
  const seconds = Math.ceil((Date.parse(due) - Date.now()) / 1000);
  if (seconds > 0) return `Réponse automatique dans ${seconds} s (praticien de scénario)`;
  return "Réponse automatique imminente (praticien de scénario)";
}

export function tickAutopilots() {
  for (const node of document.querySelectorAll("[data-due]")) {
    node.textContent = autopilotText(node.dataset.due);
  }
}

// --- Request journal ------------------------------------------------------------------------

function statusBadge(status) {
  if (status < 300) return "badge--ok";
  if (status < 500) return "badge--error";
  return "badge--error";
}

function issueRows(list, issues, level) {
  for (const issue of issues) {
    const term = element("dt", `issues__field issues__field--${level}`);
    if (issue.field) term.append(element("code", "", issue.field));
    else term.textContent = BODY_CODES.has(issue.code) ? "(corps de la requête)" : "(requête)";
    const detail = element("dd", `issues__detail issues__detail--${level}`);
    detail.append(element("span", "issues__message", issue.message_fr || issue.message));
    const wire = element("span", "issues__wire");
    wire.append(element("code", "", issue.code));
    if (issue.message && issue.message !== issue.message_fr) wire.append(" · " + issue.message);
    detail.append(wire);
    list.append(term, detail);
  }
}

export function buildRequest(entry, ctx) {
  const node = clone("tpl-request");
  const badge = slot(node, "status");
  badge.textContent = String(entry.status);
  badge.classList.add(statusBadge(entry.status));
  const call = slot(node, "call");
  call.textContent = `${entry.method} ${entry.path.replace(UUID, (id) => shortId(id) + "…")}`;
  call.title = `${entry.method} ${entry.path}`;
  const parts = [time(entry.time), ctx.keyLabel(entry.owner_key), `${entry.duration_ms}\u00a0ms`];
  if (entry.errors.length) parts.push(plural(entry.errors.length, "erreur", "erreurs"));
  if (entry.warnings.length) parts.push(plural(entry.warnings.length, "avertissement", "avertissements"));
  slot(node, "meta").textContent = parts.join(" · ");
  const issues = slot(node, "issues");
  issueRows(issues, entry.errors, "error");
  issueRows(issues, entry.warnings, "warning");
  issues.hidden = !(entry.errors.length || entry.warnings.length);
  return node;
}

// --- Deliveries ------------------------------------------------------------------------------

/** A failed attempt's error in French; the worker's own words stay in the cell's title. */
export function attemptError(error) {
  if (!error) return "";
  for (const [pattern, french] of ATTEMPT_ERRORS) {
    const match = pattern.exec(error);
    if (match) return french(match);
  }
  return error;
}

export function buildDelivery(item, ctx) {
  const node = clone("tpl-delivery");
  const badge = slot(node, "status");
  badge.textContent = DELIVERY[item.status] || item.status;
  badge.classList.add(`badge--${DELIVERY_BADGE[item.status] || "temporary"}`);
  node.dataset.status = item.status;
  const data = item.payload.data || {};
  const move = `${STATUS[data.previous_status] || data.previous_status} → ${STATUS[data.status] || data.status}`;
  const patient = item.patient ? `${item.patient} (${shortId(item.draft_id)})` : shortId(item.draft_id);
  slot(node, "event").textContent = `Demande ${patient} : ${move}`;
  slot(node, "owner").textContent = ctx.keyLabel(item.owner_key);
  slot(node, "meta").textContent = `${item.url || "Aucune URL de webhook pour cette clé"} · webhook-id ${item.webhook_id}`;
  const rows = slot(node, "attempts");
  item.attempts.forEach((attempt, index) => {
    const row = element("tr", attempt.error ? "attempt attempt--failed" : "attempt");
    const cells = [
      ["#", String(index + 1)],
      ["Heure", time(attempt.at)],
      ["Réponse", attempt.status_code === null ? "—" : `HTTP ${attempt.status_code}`],
      ["Durée", `${attempt.duration_ms}\u00a0ms`],
      ["Erreur", attemptError(attempt.error)],
    ];
    for (const [label, value] of cells) {
      const cell = element("td", "", value);
      cell.dataset.label = label;
      if (label === "Erreur" && attempt.error) cell.title = attempt.error;
      row.append(cell);
    }
    rows.append(row);
  });
  if (!item.attempts.length) {
    const row = element("tr");
    const cell = element("td", "", "Pas encore de tentative.");
    cell.colSpan = 5;
    row.append(cell);
    rows.append(row);
  }
  if (item.status === "pending" && item.next_attempt_at) {
    slot(node, "next").textContent = `Prochaine tentative à ${time(item.next_attempt_at)}`;
  }
  const button = slot(node, "redeliver");
  button.setAttribute("aria-label", `Renvoyer la notification ${shortId(item.draft_id)} (${move})`);
  button.addEventListener("click", () => ctx.redeliver(item.id, button));
  return node;
}

// --- Inboxes and keys ------------------------------------------------------------------------

export function buildInbox(inbox, ctx) {
  const node = clone("tpl-inbox");
  slot(node, "name").textContent = inbox.name;
  slot(node, "count").textContent = plural(inbox.count, "requête", "requêtes");
  slot(node, "last").textContent = `dernière à ${time(inbox.last_received_at)}`;
  const details = slot(node, "details");
  details.addEventListener("toggle", () => {
    if (!details.open) {
      ctx.open.delete(inbox.name);
    } else if (!ctx.open.has(inbox.name)) {
      ctx.open.add(inbox.name);
      ctx.loadInbox(inbox.name, node);
    }
  });
  if (ctx.open.has(inbox.name)) {
    details.open = true; // kept open across updates; refresh() reads it again
    showInbox(node, ctx.inboxItems.get(inbox.name) || []);
  }
  return node;
}

export function showInbox(node, items) {
  const list = slot(node, "requests");
  list.replaceChildren();
  for (const item of items.slice(0, 20)) {
    const li = element("li", "inbox__request");
    const head = element("p", "item__meta");
    const id = item.headers["webhook-id"] ? ` · webhook-id ${item.headers["webhook-id"]}` : "";
    head.textContent = `${time(item.received_at)} · ${item.method} · ${size(item.size)}${id}`;
    li.append(head, element("pre", "body", prettyBody(item)));
    list.append(li);
  }
}

function prettyBody(item) {
  if (item.body_encoding !== "utf-8") return `(binaire, ${size(item.size)})`;
  try {
    return JSON.stringify(JSON.parse(item.body), null, 2);
  } catch (error) {
    return item.body;
  }
}

function masked(secret) {
  return secret.length > 14 ? `${secret.slice(0, 9)}…${secret.slice(-4)}` : "••••";
}

export function buildKey(key, ctx) {
  const node = clone("tpl-key");
  slot(node, "name").textContent = key.name;
  slot(node, "key").textContent = key.key;
  setUpRevoke(node, key, ctx);
  slot(node, "url").textContent = key.webhook_url || "Aucun webhook";
  const source = slot(node, "source");
  if (key.webhook_source) {
    source.textContent = SOURCE[key.webhook_source] || key.webhook_source;
  } else {
    source.remove();
  }
  const secret = slot(node, "secret");
  const reveal = slot(node, "reveal");
  if (!key.webhook_secret) {
    secret.textContent = "—";
    reveal.remove();
    return node;
  }
  const show = () => {
    const shown = ctx.revealed.has(key.key);
    secret.textContent = shown ? key.webhook_secret : masked(key.webhook_secret);
    reveal.textContent = shown ? "Masquer" : "Afficher";
    reveal.setAttribute("aria-pressed", String(shown));
  };
  reveal.addEventListener("click", () => {
    if (ctx.revealed.has(key.key)) ctx.revealed.delete(key.key);
    else ctx.revealed.add(key.key);
    show();
  });
  show();
  return node;
}

/** A run-time key's "Révoquer…": ask, then DELETE it; a key of the fixtures has none. */
function setUpRevoke(node, key, ctx) {
  const ask = slot(node, "revoke-ask");
  const confirm = slot(node, "revoke-confirm");
  if (key.source !== "runtime") {
    ask.remove();
    confirm.remove();
    return;
  }
  const start = slot(node, "revoke-start");
  const go = slot(node, "revoke-go");
  start.addEventListener("click", () => {
    slot(node, "revoke-question").textContent =
      `Révoquer la clé ${key.name} (${key.key}) ? Les appels avec cette clé seront refusés ` +
      "(401) ; ses données restent visibles ici jusqu'à une réinitialisation.";
    ask.hidden = true;
    confirm.hidden = false;
    slot(node, "revoke-cancel").focus();
  });
  slot(node, "revoke-cancel").addEventListener("click", () => {
    confirm.hidden = true;
    ask.hidden = false;
    start.focus();
  });
  go.addEventListener("click", () => ctx.revoke(key.key, go));
}
