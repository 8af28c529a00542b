// The URL method's page (/interop/drafts/new#…). Plain script, no build step.
//
// 1. At once, before the page renders: read the fragment, then replace the address with
//    the bare /interop/drafts/new, so no health data stays in the address bar or this
//    tab's session history. The browser's own history database has already recorded the
//    opened link: no script can remove it (the page says so, README "Pages: the browser side").
// 2. Once the form exists: send the raw fragment, in a POST body (never in a URL), to the
//    same-origin lint endpoint. The server decodes it and judges every parameter with the
//    API's own Python rules (app/prefill.py, shared with `omnidoc-sandbox check-url`), so
//    there is no second copy of the rules here. Then prefill the form and show verdicts.
// User data enters the page only through `value` and `textContent`.
"use strict";

(function () {
  const PAGE_PATH = "/interop/drafts/new";
  const LINT_URL = "/interop/drafts/new/lint";
  const fragment = window.location.hash.slice(1);
  if (window.location.hash || window.location.search) {
    window.history.replaceState(null, "", PAGE_PATH);
  }

  const VERDICTS = {
    ok: "Reconnu",
    warning: "Avertissement",
    error: "Invalide",
    unknown: "Inconnu",
  };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function lint(payload) {
    const response = await fetch(LINT_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) throw new Error("lint answered " + response.status);
    return response.json();
  }

  function control(form, name) {
    const found = form.elements.namedItem(name);
    return found instanceof HTMLElement ? found : null;
  }

  function setValue(input, value) {
    if (input instanceof HTMLSelectElement) {
      const known = Array.from(input.options).some((option) => option.value === value);
      if (!known) {
        // A value outside the list (an unknown RPPS, a gender "X") is kept, to be corrected.
        input.add(new Option(value + " (valeur reçue)", value));
      }
    }
    input.value = value;
  }

  function showFieldVerdicts(form, parameters) {
    const byName = new Map(parameters.map((p) => [p.name, p]));
    for (const field of form.querySelectorAll(".field[data-field]")) {
      const name = field.dataset.field;
      const report = byName.get(name);
      const level = report && report.verdict !== "ok" ? report.verdict : "";
      field.classList.remove("field--error", "field--warning");
      if (level) field.classList.add("field--" + level);
      const input = control(form, name);
      if (input) {
        if (level === "error") input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
      const box = document.getElementById("msg-" + name);
      if (!box) continue;
      box.replaceChildren();
      for (const issue of level ? report.issues : []) {
        box.append(element("p", "field__message", issue.message_fr));
      }
    }
  }

  function showLinkReport(result) {
    const rows = document.getElementById("link-rows");
    rows.replaceChildren();
    for (const p of result.parameters) {
      const row = document.createElement("tr");
      row.dataset.parameter = p.name;
      row.dataset.verdict = p.verdict;
      const name = element("td", "mono params__name", p.name);
      const value = element("td", "value params__value", p.value);
      const verdict = element("td", "params__verdict");
      verdict.append(element("span", "badge badge--" + p.verdict, VERDICTS[p.verdict] || p.verdict));
      const detail = element("td", "params__detail", p.issues.map((i) => i.message_fr).join(" "));
      row.append(name, value, verdict, detail);
      rows.append(row);
    }
    const count = (verdict) => result.parameters.filter((p) => p.verdict === verdict).length;
    const plural = (n, one, many) => n + " " + (n > 1 ? many : one);
    const total = result.parameters.length;
    const parts = [plural(total, "paramètre reçu", "paramètres reçus")];
    if (count("ok")) parts.push(plural(count("ok"), "reconnu", "reconnus"));
    if (count("warning")) parts.push(plural(count("warning"), "avertissement", "avertissements"));
    if (count("error")) parts.push(plural(count("error"), "invalide", "invalides"));
    if (count("unknown")) parts.push(plural(count("unknown"), "inconnu (ignoré)", "inconnus (ignorés)"));
    let summary = parts.join(" · ") + ".";
    if (count("error")) summary += " Corrigez les champs signalés avant de créer la demande.";
    document.getElementById("link-summary").textContent = summary;
    document.getElementById("link-report").hidden = false;
  }

  function formValues(form) {
    const values = {};
    for (const field of form.querySelectorAll(".field[data-field]")) {
      const input = control(form, field.dataset.field);
      if (input) values[field.dataset.field] = input.value;
    }
    return values;
  }

  async function prefill(form) {
    const result = await lint({ fragment: fragment });
    for (const [name, value] of Object.entries(result.values)) {
      const input = control(form, name);
      if (input) setValue(input, value);
    }
    showFieldVerdicts(form, result.parameters);
    showLinkReport(result);
  }

  function start() {
    const form = document.getElementById("draft-form");
    if (!form) return;
    if (fragment) {
      prefill(form).catch(() => {
        document.getElementById("lint-failed").hidden = false;
      });
    }
    // Check a corrected field again when it loses focus, with the same server rules.
    form.addEventListener("change", () => {
      lint({ values: formValues(form) })
        .then((result) => showFieldVerdicts(form, result.parameters))
        .catch(() => {});
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
