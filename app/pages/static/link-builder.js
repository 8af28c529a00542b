// The dashboard's prefill-link builder (URL method). Plain script, no build step.
//
// The form's fields are named as the URL method's parameters. Each change sends the
// values, in a POST body, to the same lint endpoint the URL method's page uses
// (/interop/drafts/new/lint, app/prefill.py, shared with `omnidoc-sandbox check-url`):
// no rule is written here. The link is the values percent-encoded in a fragment, with
// the address's line breaks written `\n` as the Omnidoc document does.
"use strict";

(function () {
  const LINT_URL = "/interop/drafts/new/lint";
  const PAGE_PATH = "/interop/drafts/new";
  const BACKSLASH_N = new Set(["patient_address"]);

  function $(id) {
    return document.getElementById(id);
  }

  function values(form) {
    const found = [];
    for (const field of form.querySelectorAll(".field[data-field]")) {
      const input = form.elements.namedItem(field.dataset.field);
      if (input && input.value !== "") found.push([field.dataset.field, input.value]);
    }
    return found;
  }

  function fragment(pairs) {
    return pairs
      .map(([name, value]) => {
        const text = BACKSLASH_N.has(name) ? value.replace(/\r?\n/g, "\\n") : value;
        return `${encodeURIComponent(name)}=${encodeURIComponent(text)}`;
      })
      .join("&");
  }

  async function lint(pairs) {
    const response = await fetch(LINT_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ values: Object.fromEntries(pairs) }),
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) throw new Error("lint answered " + response.status);
    return response.json();
  }

  function showVerdicts(form, parameters) {
    const byName = new Map(parameters.map((p) => [p.name, p]));
    for (const field of form.querySelectorAll(".field[data-field]")) {
      const name = field.dataset.field;
      const report = byName.get(name);
      const level = report && report.verdict !== "ok" ? report.verdict : "";
      field.classList.remove("field--error", "field--warning", "field--unknown");
      if (level) field.classList.add("field--" + level);
      const input = form.elements.namedItem(name);
      if (input instanceof HTMLElement) {
        if (level === "error") input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
      const box = $("msg-" + name);
      if (!box) continue;
      box.replaceChildren();
      for (const issue of level ? report.issues : []) {
        const message = document.createElement("p");
        message.className = "field__message";
        message.textContent = issue.message_fr;
        box.append(message);
      }
    }
  }

  /** A link naming a field by its label; following it takes the user to the field. */
  function fieldLink(form, name) {
    const input = form.elements.namedItem(name);
    const label = form.querySelector(`label[for="f-${name}"]`);
    const link = document.createElement("a");
    link.href = `#f-${name}`;
    link.className = "link-summary__field";
    link.dataset.field = name;
    link.textContent = label ? label.textContent.trim() : name;
    link.addEventListener("click", (event) => {
      event.preventDefault(); // no fragment in the dashboard's address
      if (!(input instanceof HTMLElement)) return;
      input.scrollIntoView({ block: "center" });
      input.focus({ preventScroll: true });
    });
    return link;
  }

  function showLink(form, pairs, result) {
    const output = $("link-output");
    const open = $("link-open");
    const copy = $("link-copy");
    const summary = $("link-summary");
    const box = $("link-result");
    if (!pairs.length) {
      output.value = "";
      open.href = PAGE_PATH;
      open.setAttribute("aria-disabled", "true");
      copy.disabled = true;
      summary.textContent = "Remplissez au moins un champ pour obtenir un lien.";
      box.dataset.state = "empty";
      return;
    }
    const link = `${form.dataset.baseUrl}${PAGE_PATH}#${fragment(pairs)}`;
    output.value = link;
    open.href = link;
    open.removeAttribute("aria-disabled");
    copy.disabled = false;
    const n = pairs.length;
    const count = `${n} paramètre${n > 1 ? "s" : ""}`;
    if (result.errors) {
      const e = result.errors;
      summary.textContent = `${count}, ${e} invalide${e > 1 ? "s" : ""} : `;
      const invalid = (result.parameters || []).filter((p) => p.verdict === "error");
      invalid.forEach((p, index) => {
        if (index) summary.append(", ");
        summary.append(fieldLink(form, p.name));
      });
      if (!invalid.length) summary.append("corrigez les champs signalés.");
      else if (invalid.length === 1) summary.append(". Corrigez-le : la page le montrerait en erreur.");
      else summary.append(". Corrigez-les : la page les montrerait en erreur.");
      box.dataset.state = "error";
    } else if (result.warnings) {
      summary.textContent = `${count}, avec ${result.warnings} avertissement${result.warnings > 1 ? "s" : ""}.`;
      box.dataset.state = "warning";
    } else {
      summary.textContent = `Lien prêt : ${count}, tous conformes.`;
      box.dataset.state = "ok";
    }
  }

  function start() {
    const form = $("link-form");
    if (!form) return;
    let pending = 0;
    let timer = 0;
    const check = async () => {
      const pairs = values(form);
      const mine = ++pending;
      try {
        const result = pairs.length ? await lint(pairs) : { parameters: [], errors: 0, warnings: 0 };
        if (mine !== pending) return; // a later change answered already
        showVerdicts(form, result.parameters);
        showLink(form, pairs, result);
      } catch (error) {
        $("link-summary").textContent = "La vérification du lien a échoué. Réessayez.";
      }
    };
    form.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, 300);
    });
    form.addEventListener("change", check);
    form.addEventListener("submit", (event) => event.preventDefault());
    $("link-copy").addEventListener("click", async () => {
      const output = $("link-output");
      try {
        await navigator.clipboard.writeText(output.value);
        $("link-summary").textContent = "Lien copié dans le presse-papiers.";
      } catch (error) {
        output.select(); // the user copies it by hand
      }
    });
    $("link-open").addEventListener("click", (event) => {
      if ($("link-open").getAttribute("aria-disabled") === "true") event.preventDefault();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
