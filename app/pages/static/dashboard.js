// The dashboard (GET /): a module, no build step.
//
// It reads the admin API (/_sandbox/admin/…) and follows it live: it long-polls
// /_sandbox/admin/changes, whose cursor moves whenever anything shown here changes, then
// reads the listings again. Items are keyed by id and only the ones that changed are
// rebuilt (dashboard-dom.js: reconcile), so focus and open panels survive updates.

import { $, element, plural, reconcile, time } from "./dashboard-dom.js";
import {
  buildDelivery,
  buildDraft,
  buildInbox,
  buildKey,
  buildRequest,
  patientName,
  showInbox,
  tickAutopilots,
} from "./dashboard-items.js";

const API = "/_sandbox/admin";
const WAIT_SECONDS = 25;
// Between two tries while the sandbox cannot be reached: short and capped, so the dashboard
// is live again within 2 s of the server being ready after a restart (SPEC §6).
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 1000;
const PAGE = { drafts: 10, requests: 15, deliveries: 8 }; // shown at first, and per "more"
const LISTINGS = ["drafts", "requests", "deliveries", "inboxes", "keys"];

const state = {
  cursor: null,
  data: { drafts: [], requests: [], deliveries: [], inboxes: [], keys: [] },
  keyNames: new Map(),
  shown: { ...PAGE }, // how many items of each long list are on the page
};
// What the item builders read and call (dashboard-items.js).
const ctx = {
  open: new Set(), // inboxes whose panel is open
  inboxItems: new Map(),
  revealed: new Set(), // keys whose webhook secret is shown
  keyLabel(key) {
    if (key === null || key === undefined) return "Sans clé (méthode URL)";
    const name = state.keyNames.get(key);
    return name ? `${name} · ${key}` : key;
  },
  redeliver,
  revoke,
  loadInbox,
};

class SessionExpired extends Error {}

async function call(path, options) {
  const response = await fetch(path, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
    ...options,
  });
  if (response.status === 401) throw new SessionExpired();
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

// --- Actions ------------------------------------------------------------------------------

async function redeliver(id, button) {
  // Busy, not disabled: a disabled button drops the keyboard focus.
  if (button.getAttribute("aria-busy") === "true") return;
  button.setAttribute("aria-busy", "true");
  try {
    await call(`${API}/deliveries/${encodeURIComponent(id)}/redeliver`, { method: "POST" });
    await refresh();
  } catch (error) {
    showProblem(error);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

async function revoke(key, button) {
  if (button.getAttribute("aria-busy") === "true") return;
  button.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(`${API}/keys/${encodeURIComponent(key)}`, {
      method: "DELETE",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.status === 401) throw new SessionExpired();
    if (!response.ok && response.status !== 404) throw new Error(`revoke answered ${response.status}`);
    await refresh();
  } catch (error) {
    showProblem(error);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

async function loadInbox(name, node) {
  try {
    const answer = await call(`/_sandbox/inbox/${encodeURIComponent(name)}`);
    ctx.inboxItems.set(name, answer.items);
    showInbox(node, answer.items);
  } catch (error) {
    showProblem(error);
  }
}

// --- Rendering with the filters ----------------------------------------------------------

function render() {
  const key = $("filter-key").value;
  const status = $("filter-status").value;
  const ownerMatches = (owner) => !key || (key === "-" ? owner === null : owner === key);
  const drafts = state.data.drafts.filter(
    (d) => ownerMatches(d.owner_key) && (!status || d.status === status),
  );
  const requests = state.data.requests.filter((r) => ownerMatches(r.owner_key));
  // Each notification names its draft's patient, when the draft is listed.
  const names = new Map(state.data.drafts.map((d) => [d.id, d.patient ? patientName(d) : ""]));
  const deliveries = state.data.deliveries
    .filter((d) => ownerMatches(d.owner_key))
    .map((d) => ({ ...d, patient: names.get(d.draft_id) || "" }));
  show("drafts", drafts, buildDraft);
  show("requests", requests, buildRequest);
  show("deliveries", deliveries, buildDelivery);
  show("inboxes", state.data.inboxes, buildInbox, (i) => i.name);
  show("keys", state.data.keys, buildKey, (k) => k.key);
  for (const id of ["filter-key", "clock-key", "key-reset-key"]) syncKeyOptions($(id));
  $("count-drafts").textContent = String(drafts.length);
  $("count-requests").textContent = String(requests.length);
  $("count-deliveries").textContent = String(deliveries.length);
  renderClock();
}

/** The select's key options, as the keys listing has them (keys come and go at run time). */
function syncKeyOptions(select) {
  const wanted = state.data.keys.map((k) => [k.key, `${k.name} (${k.key})`]);
  const present = [...select.querySelectorAll("option[data-key-option]")];
  const same =
    present.length === wanted.length &&
    present.every((option, i) => option.value === wanted[i][0] && option.text === wanted[i][1]);
  if (same) return;
  const chosen = select.value;
  const options = wanted.map(([value, text]) => {
    const option = element("option", null, text);
    option.value = value;
    option.dataset.keyOption = "";
    return option;
  });
  // Key options sit before the "Sans clé" option of the filter, at the end elsewhere.
  const before = select.querySelector('option[value="-"]');
  for (const option of present) option.remove();
  for (const option of options) select.insertBefore(option, before);
  const kept = [...select.options].some((option) => option.value === chosen);
  select.value = kept ? chosen : (select.options[0]?.value ?? "");
}

function show(name, items, build, keyOf) {
  const limit = state.shown[name] || items.length;
  const visible = items.slice(0, limit);
  reconcile($(name), visible, keyOf || ((item) => item.id), (item) => build(item, ctx));
  $(`${name}-empty`)?.toggleAttribute("hidden", items.length > 0);
  const more = document.querySelector(`[data-more="${name}"]`);
  if (more) {
    const rest = items.length - visible.length;
    more.parentElement.hidden = rest <= 0;
    more.textContent = `Afficher ${Math.min(rest, PAGE[name])} de plus (${rest} non affichés)`;
  }
}

// --- Loading and following changes ------------------------------------------------------------

async function refresh() {
  const answers = await Promise.all(LISTINGS.map((name) => call(`${API}/${name}`)));
  LISTINGS.forEach((name, index) => {
    state.data[name] = answers[index].items;
  });
  state.keyNames = new Map(state.data.keys.map((k) => [k.key, k.name]));
  render();
  for (const name of ctx.open) {
    const node = $("inboxes").querySelector(`[data-key="${CSS.escape(name)}"]`);
    if (node) loadInbox(name, node);
  }
}

function setLive(live, message) {
  const badge = $("live");
  badge.dataset.state = live ? "live" : "offline";
  badge.textContent = live ? "En direct" : "Hors ligne";
  $("load-failed").hidden = live;
  if (message) $("load-failed-text").textContent = message;
}

/** Say what went wrong; true when the session is gone (nothing to retry). */
function showProblem(error) {
  if (error instanceof SessionExpired) {
    setLive(false, "Session d'administration expirée : rechargez la page pour saisir le jeton.");
    return true;
  }
  setLive(false, "Le tableau de bord n'a pas pu joindre le sandbox. Nouvelle tentative en cours…");
  return false;
}

async function follow() {
  let retry = RETRY_FIRST_MS;
  // After a failure the next look does not wait: a server back from a restart is shown
  // live at once, not when its first long-poll ends (up to WAIT_SECONDS later).
  let wait = WAIT_SECONDS;
  for (;;) {
    try {
      const since = state.cursor ? `&since=${encodeURIComponent(state.cursor)}` : "";
      const answer = await call(`${API}/changes?wait=${wait}${since}`);
      if (answer.cursor !== state.cursor) {
        await refresh();
        state.cursor = answer.cursor; // after the read: a change during it is seen next time
      }
      setLive(true);
      retry = RETRY_FIRST_MS;
      wait = WAIT_SECONDS;
    } catch (error) {
      if (showProblem(error)) return; // signed out: nothing to follow until a reload
      wait = 0;
      await new Promise((resolve) => window.setTimeout(resolve, retry));
      retry = Math.min(retry * 2, RETRY_MAX_MS);
    }
  }
}

// --- Resets: everything, or one key's data; each asks before it wipes ---------------------

/** Wire the ask → confirm → done steps of the buttons `${prefix}-…`; `run` wipes and says what. */
function confirmed(prefix, { question, run }) {
  const ask = $(`${prefix}-ask`);
  const confirm = $(`${prefix}-confirm`);
  const done = $(`${prefix}-done`);
  const go = $(`${prefix}-go`);
  $(`${prefix}-start`).addEventListener("click", () => {
    if (question) $(`${prefix}-question`).textContent = question();
    ask.hidden = true;
    confirm.hidden = false;
    done.hidden = true;
    $(`${prefix}-cancel`).focus();
  });
  $(`${prefix}-cancel`).addEventListener("click", () => {
    confirm.hidden = true;
    ask.hidden = false;
    $(`${prefix}-start`).focus();
  });
  go.addEventListener("click", async () => {
    go.disabled = true;
    try {
      done.textContent = await run();
      done.hidden = false;
      confirm.hidden = true;
      ask.hidden = false;
      $(`${prefix}-start`).focus();
      await refresh();
    } catch (error) {
      showProblem(error);
    } finally {
      go.disabled = false;
    }
  });
}

function counts(deleted) {
  return (
    `${plural(deleted.drafts, "demande effacée", "demandes effacées")}, ` +
    `${plural(deleted.deliveries, "notification", "notifications")}, ` +
    `${plural(deleted.journal, "appel", "appels")}`
  );
}

function setUpReset() {
  confirmed("reset", {
    run: async () => {
      const { deleted } = await call(`${API}/reset`, { method: "POST" });
      ctx.inboxItems.clear();
      return `Sandbox réinitialisé : ${counts(deleted)}.`;
    },
  });
  const select = $("key-reset-key");
  const chosen = () => select.options[select.selectedIndex];
  confirmed("key-reset", {
    question: () =>
      `Effacer les données de la clé ${chosen().text} ? Son webhook est conservé. C'est définitif.`,
    run: async () => {
      const option = chosen();
      const path = `${API}/keys/${encodeURIComponent(option.value)}/reset`;
      const { deleted } = await call(path, { method: "POST" });
      return `Clé ${option.text} réinitialisée : ${counts(deleted)}.`;
    },
  });
}

// --- Keys at run time: add one (its key and secret shown once) ---------------------------

function setUpKeys() {
  const form = $("key-add-form");
  const problem = $("key-add-problem");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const go = $("key-add-go");
    const name = $("key-add-name").value.trim();
    const url = $("key-add-url").value.trim();
    problem.hidden = true;
    if (!name) {
      problem.textContent = "Donnez un nom à la clé.";
      problem.hidden = false;
      $("key-add-name").focus();
      return;
    }
    go.disabled = true;
    try {
      const response = await fetch(`${API}/keys`, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify(url ? { name, webhook_url: url } : { name }),
      });
      if (response.status === 401) throw new SessionExpired();
      if (response.status === 422) {
        problem.textContent =
          "Clé non ajoutée : vérifiez le nom (200 caractères au plus) et l'URL du webhook " +
          "(http:// ou https://, jamais une adresse link-local).";
        problem.hidden = false;
        return;
      }
      if (!response.ok) throw new Error(`keys answered ${response.status}`);
      const added = await response.json();
      $("key-added-key").textContent = added.key;
      $("key-added-secret").textContent = added.webhook_secret || "Aucun (pas de webhook)";
      $("key-added").hidden = false;
      form.reset();
      await refresh();
    } catch (error) {
      showProblem(error);
    } finally {
      go.disabled = false;
    }
  });
}

// --- Clock ---------------------------------------------------------------------------------------

/** What an advance of the chosen key would perform, from the listings already loaded. */
function scheduledMoves(key, seconds) {
  const horizon = Date.now() + seconds * 1000;
  const names = new Map(state.data.drafts.map((d) => [d.id, d.patient ? patientName(d) : ""]));
  const moves = [];
  for (const draft of state.data.drafts) {
    if (draft.owner_key === key && draft.status === "in_progress" && draft.autopilot_due_at) {
      moves.push({ kind: "autopilot", draft_id: draft.id, due_at: draft.autopilot_due_at });
    }
  }
  for (const delivery of state.data.deliveries) {
    if (
      delivery.owner_key === key &&
      delivery.status === "pending" &&
      delivery.attempts.length > 0 &&
      delivery.next_attempt_at
    ) {
      moves.push({ kind: "webhook_retry", draft_id: delivery.draft_id, due_at: delivery.next_attempt_at });
    }
  }
  return moves
    .filter((move) => Date.parse(move.due_at) <= horizon)
    .sort((a, b) => Date.parse(a.due_at) - Date.parse(b.due_at))
    .map((move) => ({ ...move, patient: names.get(move.draft_id) || "" }));
}

function moveText(move) {
  const what =
    move.kind === "autopilot"
      ? "Réponse automatique du praticien de scénario"
      : "Nouvel essai de la notification";
  const whom = move.patient ? ` (${move.patient})` : "";
  return `${what}${whom} : ${time(move.due_at)}`;
}

function renderClock() {
  const key = $("clock-key").value;
  const delay = $("clock-delay");
  const moves = scheduledMoves(key, Number(delay.value));
  const label = delay.options[delay.selectedIndex].text;
  $("clock-preview").textContent = moves.length
    ? `Délai de ${label} : ${plural(moves.length, "action prévue", "actions prévues")} pour ` +
      "cette clé, et les nouveaux essais qu'elles programmeront dans ce même délai."
    : `Délai de ${label} : rien n'est prévu pour cette clé.`;
  const list = $("clock-moves");
  list.replaceChildren(...moves.map((move) => element("li", null, moveText(move))));
}

function setUpClock() {
  $("clock-key").addEventListener("change", renderClock);
  $("clock-delay").addEventListener("change", renderClock);
  $("clock-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("clock-go");
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    const done = $("clock-done");
    try {
      // The vendor scope: the key itself, as its own client would call it.
      const answer = await call("/_sandbox/clock/advance", {
        method: "POST",
        headers: {
          Accept: "application/json",
          Authorization: `Bearer ${$("clock-key").value}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ seconds: Number($("clock-delay").value) }),
      });
      const autopilot = answer.performed.filter((m) => m.kind === "autopilot").length;
      const retries = answer.performed.length - autopilot;
      done.textContent = answer.performed.length
        ? `Horloge avancée : ${plural(autopilot, "réponse automatique", "réponses automatiques")}` +
          ` et ${plural(retries, "nouvel essai de notification", "nouveaux essais de notification")}.`
        : "Horloge avancée : rien n'était prévu dans ce délai.";
      done.hidden = false;
      await refresh();
    } catch (error) {
      showProblem(error);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
}

// --- Snapshots -----------------------------------------------------------------------------

function setUpSnapshots() {
  const file = $("snapshot-file");
  const ask = $("snapshot-ask");
  const confirm = $("snapshot-confirm");
  const done = $("snapshot-done");
  const failed = $("snapshot-failed");
  file.addEventListener("change", () => {
    $("snapshot-start").disabled = !file.files.length;
  });
  $("snapshot-start").addEventListener("click", () => {
    ask.hidden = true;
    confirm.hidden = false;
    done.hidden = true;
    failed.hidden = true;
    $("snapshot-cancel").focus();
  });
  $("snapshot-cancel").addEventListener("click", () => {
    confirm.hidden = true;
    ask.hidden = false;
    $("snapshot-start").focus();
  });
  $("snapshot-go").addEventListener("click", async () => {
    const go = $("snapshot-go");
    go.disabled = true;
    try {
      const response = await fetch(`${API}/import`, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json", "Content-Type": "application/octet-stream" },
        body: file.files[0],
      });
      if (response.status === 401) throw new SessionExpired();
      const answer = await response.json();
      if (response.ok) {
        const drafts = answer.tables.draft || 0;
        done.textContent =
          `Instantané importé : ${plural(drafts, "demande", "demandes")}, ` +
          `${plural(answer.files, "pièce jointe", "pièces jointes")}.`;
        done.hidden = false;
      } else {
        failed.textContent =
          "Instantané refusé : rien n'a été modifié. " +
          `Détail (en anglais) : ${answer.detail || response.status}`;
        failed.hidden = false;
      }
      confirm.hidden = true;
      ask.hidden = false;
      $("snapshot-start").focus();
      ctx.inboxItems.clear();
      await refresh();
    } catch (error) {
      showProblem(error);
    } finally {
      go.disabled = false;
    }
  });
}

function start() {
  if (!$("drafts")) return;
  $("filter-key").addEventListener("change", render);
  $("filter-status").addEventListener("change", render);
  for (const more of document.querySelectorAll("[data-more]")) {
    more.addEventListener("click", () => {
      state.shown[more.dataset.more] += PAGE[more.dataset.more];
      render();
    });
  }
  setUpReset();
  setUpKeys();
  setUpClock();
  setUpSnapshots();
  window.setInterval(tickAutopilots, 1000);
  follow();
}

start(); // a module runs once the page is parsed
