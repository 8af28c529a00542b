// The dashboard (GET /). Plain script, no build step.
//
// It reads the admin API (/_sandbox/admin/…) and follows it live: it long-polls
// /_sandbox/admin/changes, whose cursor moves whenever anything shown here changes, then
// reads the listings again. Items are keyed by id and only the ones that changed are
// rebuilt, so focus and open panels survive updates. Markup comes from the page's
// <template> elements; user data enters the page only through textContent and value.
"use strict";

(function () {
  const API = "/_sandbox/admin";
  const WAIT_SECONDS = 25;
  const STATUS = {
    temporary: "Temporaire",
    draft: "Brouillon",
    in_progress: "En cours",
    completed: "Terminée",
    cancelled: "Annulée",
  };
  const DELIVERY = { pending: "En attente", delivered: "Livrée", failed: "Échec" };
  const DELIVERY_BADGE = { pending: "in_progress", delivered: "completed", failed: "cancelled" };
  const SOURCE = { registered: "(enregistré par PUT /_sandbox/webhook)", fixtures: "(fixtures)" };
  const PAGE = { drafts: 10, requests: 15, deliveries: 8 }; // shown at first, and per "more"
  const clock = new Intl.DateTimeFormat("fr-FR", {
    timeZone: "UTC",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const day = new Intl.DateTimeFormat("fr-FR", { timeZone: "UTC", day: "2-digit", month: "2-digit" });

  const state = {
    cursor: null,
    data: { drafts: [], requests: [], deliveries: [], inboxes: [], keys: [] },
    keyNames: new Map(),
    open: new Set(), // inboxes whose panel is open
    revealed: new Set(), // keys whose webhook secret is shown
    inboxItems: new Map(),
    shown: { ...PAGE }, // how many items of each long list are on the page
  };
  const built = new WeakMap(); // node -> the JSON it was built from
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

  // --- Small helpers -------------------------------------------------------------------

  function $(id) {
    return document.getElementById(id);
  }

  function clone(templateId) {
    return $(templateId).content.firstElementChild.cloneNode(true);
  }

  function slot(node, name) {
    return node.querySelector(`[data-slot="${name}"]`);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function time(iso) {
    if (!iso) return "—";
    const at = new Date(iso);
    const today = day.format(new Date()) === day.format(at);
    return (today ? "" : day.format(at) + " ") + clock.format(at);
  }

  function shortId(id) {
    return id ? id.slice(0, 8) : "";
  }

  function keyLabel(key) {
    if (key === null || key === undefined) return "Sans clé (méthode URL)";
    const name = state.keyNames.get(key);
    return name ? `${name} · ${key}` : key;
  }

  function plural(n, one, many) {
    return `${n} ${n > 1 ? many : one}`;
  }

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

  // --- Keyed lists: rebuild only what changed ---------------------------------------------

  function reconcile(container, items, keyOf, build) {
    const existing = new Map();
    for (const child of Array.from(container.children)) existing.set(child.dataset.key, child);
    const wanted = [];
    for (const item of items) {
      const key = keyOf(item);
      const signature = JSON.stringify(item);
      let node = existing.get(key);
      existing.delete(key);
      if (!node || built.get(node) !== signature) {
        const fresh = build(item);
        fresh.dataset.key = key;
        built.set(fresh, signature);
        if (node) {
          const focused = node.contains(document.activeElement)
            ? document.activeElement.dataset.focus
            : undefined;
          node.replaceWith(fresh);
          const again = focused && fresh.querySelector(`[data-focus="${focused}"]`);
          if (again) again.focus();
        }
        node = fresh;
      }
      wanted.push(node);
    }
    for (const gone of existing.values()) gone.remove();
    wanted.forEach((node, index) => {
      if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
    });
  }

  // --- Drafts -----------------------------------------------------------------------------

  function patientName(draft) {
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

  function buildDraft(draft) {
    const node = clone("tpl-draft");
    const badge = slot(node, "status");
    badge.textContent = STATUS[draft.status] || draft.status;
    badge.classList.add(`badge--${draft.status}`);
    node.dataset.status = draft.status;
    slot(node, "patient").textContent = patientName(draft);
    slot(node, "owner").textContent = keyLabel(draft.owner_key);
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

  function size(bytes) {
    if (bytes < 1024) return `${bytes} octets`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1).replace(".", ",")} Ko`;
    return `${(bytes / (1024 * 1024)).toFixed(1).replace(".", ",")} Mo`;
  }

  function autopilotText(due) {
    const seconds = Math.ceil((Date.parse(due) - Date.now()) / 1000);
    if (seconds > 0) return `Réponse automatique dans ${seconds} s (praticien de scénario)`;
    return "Réponse automatique imminente (praticien de scénario)";
  }

  function tickAutopilots() {
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
      term.append(element("code", "", issue.field || "(corps de la requête)"));
      const detail = element("dd", `issues__detail issues__detail--${level}`);
      detail.append(element("span", "issues__message", issue.message_fr || issue.message));
      const wire = element("span", "issues__wire");
      wire.append(element("code", "", issue.code));
      if (issue.message && issue.message !== issue.message_fr) wire.append(" · " + issue.message);
      detail.append(wire);
      list.append(term, detail);
    }
  }

  function buildRequest(entry) {
    const node = clone("tpl-request");
    const badge = slot(node, "status");
    badge.textContent = String(entry.status);
    badge.classList.add(statusBadge(entry.status));
    const call = slot(node, "call");
    call.textContent = `${entry.method} ${entry.path.replace(UUID, (id) => shortId(id) + "…")}`;
    call.title = `${entry.method} ${entry.path}`;
    const parts = [time(entry.time), keyLabel(entry.owner_key), `${entry.duration_ms}\u00a0ms`];
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

  function buildDelivery(item) {
    const node = clone("tpl-delivery");
    const badge = slot(node, "status");
    badge.textContent = DELIVERY[item.status] || item.status;
    badge.classList.add(`badge--${DELIVERY_BADGE[item.status] || "temporary"}`);
    node.dataset.status = item.status;
    const data = item.payload.data || {};
    const move = `${STATUS[data.previous_status] || data.previous_status} → ${STATUS[data.status] || data.status}`;
    const patient = item.patient ? `${item.patient} (${shortId(item.draft_id)})` : shortId(item.draft_id);
    slot(node, "event").textContent = `Demande ${patient} : ${move}`;
    slot(node, "owner").textContent = keyLabel(item.owner_key);
    slot(node, "meta").textContent = `${item.url || "Aucune URL de webhook pour cette clé"} · webhook-id ${item.webhook_id}`;
    const rows = slot(node, "attempts");
    item.attempts.forEach((attempt, index) => {
      const row = element("tr", attempt.error ? "attempt attempt--failed" : "attempt");
      const cells = [
        ["#", String(index + 1)],
        ["Heure", time(attempt.at)],
        ["Réponse", attempt.status_code === null ? "—" : `HTTP ${attempt.status_code}`],
        ["Durée", `${attempt.duration_ms}\u00a0ms`],
        ["Erreur", attempt.error || ""],
      ];
      for (const [label, value] of cells) {
        const cell = element("td", "", value);
        cell.dataset.label = label;
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
    button.addEventListener("click", () => redeliver(item.id, button));
    return node;
  }

  async function redeliver(id, button) {
    button.disabled = true;
    try {
      await call(`${API}/deliveries/${encodeURIComponent(id)}/redeliver`, { method: "POST" });
      await refresh();
    } catch (error) {
      showProblem(error);
    } finally {
      button.disabled = false;
    }
  }

  // --- Inboxes and keys ------------------------------------------------------------------------

  function buildInbox(inbox) {
    const node = clone("tpl-inbox");
    slot(node, "name").textContent = inbox.name;
    slot(node, "count").textContent = plural(inbox.count, "requête", "requêtes");
    slot(node, "last").textContent = `dernière à ${time(inbox.last_received_at)}`;
    const details = slot(node, "details");
    details.addEventListener("toggle", () => {
      if (!details.open) {
        state.open.delete(inbox.name);
      } else if (!state.open.has(inbox.name)) {
        state.open.add(inbox.name);
        loadInbox(inbox.name, node);
      }
    });
    if (state.open.has(inbox.name)) {
      details.open = true; // kept open across updates; refresh() reads it again
      showInbox(node, state.inboxItems.get(inbox.name) || []);
    }
    return node;
  }

  async function loadInbox(name, node) {
    try {
      const answer = await call(`/_sandbox/inbox/${encodeURIComponent(name)}`);
      state.inboxItems.set(name, answer.items);
      showInbox(node, answer.items);
    } catch (error) {
      showProblem(error);
    }
  }

  function showInbox(node, items) {
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

  function buildKey(key) {
    const node = clone("tpl-key");
    slot(node, "name").textContent = key.name;
    slot(node, "key").textContent = key.key;
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
      const shown = state.revealed.has(key.key);
      secret.textContent = shown ? key.webhook_secret : masked(key.webhook_secret);
      reveal.textContent = shown ? "Masquer" : "Afficher";
      reveal.setAttribute("aria-pressed", String(shown));
    };
    reveal.addEventListener("click", () => {
      if (state.revealed.has(key.key)) state.revealed.delete(key.key);
      else state.revealed.add(key.key);
      show();
    });
    show();
    return node;
  }

  // --- Rendering with the filters ----------------------------------------------------------

  function render() {
    const key = $("filter-key").value;
    const status = $("filter-status").value;
    const ownerMatches = (owner) => !key || (key === "-" ? owner === null : owner === key);
    const drafts = state.data.drafts.filter((d) => ownerMatches(d.owner_key) && (!status || d.status === status));
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
    for (const name of ["drafts", "requests", "deliveries"]) {
      const count = $(`count-${name}`);
      if (count) count.textContent = String({ drafts, requests, deliveries }[name].length);
    }
  }

  function show(name, items, build, keyOf) {
    const limit = state.shown[name] || items.length;
    reconcile($(name), items.slice(0, limit), keyOf || ((item) => item.id), build);
    $(`${name}-empty`)?.toggleAttribute("hidden", items.length > 0);
    const more = document.querySelector(`[data-more="${name}"]`);
    if (more) {
      const rest = items.length - limit;
      more.parentElement.hidden = rest <= 0;
      more.textContent = `Afficher ${Math.min(rest, PAGE[name])} de plus (${rest} non affichés)`;
    }
  }

  // --- Loading and following changes ------------------------------------------------------------

  async function refresh() {
    const [drafts, requests, deliveries, inboxes, keys] = await Promise.all(
      ["drafts", "requests", "deliveries", "inboxes", "keys"].map((name) => call(`${API}/${name}`)),
    );
    state.data = {
      drafts: drafts.items,
      requests: requests.items,
      deliveries: deliveries.items,
      inboxes: inboxes.items,
      keys: keys.items,
    };
    state.keyNames = new Map(keys.items.map((k) => [k.key, k.name]));
    render();
    for (const name of state.open) {
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

  function showProblem(error) {
    if (error instanceof SessionExpired) {
      setLive(false, "Session d'administration expirée : rechargez la page pour saisir le jeton.");
      return true;
    }
    setLive(false, "Le tableau de bord n'a pas pu joindre le sandbox. Nouvelle tentative en cours…");
    return false;
  }

  async function follow() {
    let retry = 500;
    for (;;) {
      try {
        const since = state.cursor ? `&since=${encodeURIComponent(state.cursor)}` : "";
        const answer = await call(`${API}/changes?wait=${WAIT_SECONDS}${since}`);
        if (answer.cursor !== state.cursor) {
          await refresh();
          state.cursor = answer.cursor;
        }
        setLive(true);
        retry = 500;
      } catch (error) {
        if (showProblem(error)) return; // signed out: nothing to follow until a reload
        await new Promise((resolve) => window.setTimeout(resolve, retry));
        retry = Math.min(retry * 2, 10000);
      }
    }
  }

  // --- Reset --------------------------------------------------------------------------------------

  function setUpReset() {
    const ask = $("reset-ask");
    const confirm = $("reset-confirm");
    const done = $("reset-done");
    $("reset-start").addEventListener("click", () => {
      ask.hidden = true;
      confirm.hidden = false;
      done.hidden = true;
      $("reset-cancel").focus();
    });
    $("reset-cancel").addEventListener("click", () => {
      confirm.hidden = true;
      ask.hidden = false;
      $("reset-start").focus();
    });
    $("reset-go").addEventListener("click", async () => {
      $("reset-go").disabled = true;
      try {
        const answer = await call(`${API}/reset`, { method: "POST" });
        const d = answer.deleted;
        done.textContent =
          `Sandbox réinitialisé : ${plural(d.drafts, "demande effacée", "demandes effacées")}, ` +
          `${plural(d.deliveries, "notification", "notifications")}, ${plural(d.journal, "appel", "appels")}.`;
        done.hidden = false;
        confirm.hidden = true;
        ask.hidden = false;
        state.inboxItems.clear();
        await refresh();
      } catch (error) {
        showProblem(error);
      } finally {
        $("reset-go").disabled = false;
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
    window.setInterval(tickAutopilots, 1000);
    follow();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
