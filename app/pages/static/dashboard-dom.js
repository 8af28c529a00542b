// Helpers of the dashboard's scripts: DOM building, French formats, keyed lists.
// User data enters the page only through textContent and value.

export const STATUS = {
  temporary: "Temporaire",
  draft: "Brouillon",
  in_progress: "En cours",
  completed: "Terminée",
  cancelled: "Annulée",
};
// Paris's clock, as every page shows it (the page names the zone once); the JSON is UTC.
const ZONE = "Europe/Paris";
const clock = new Intl.DateTimeFormat("fr-FR", {
  timeZone: ZONE,
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const day = new Intl.DateTimeFormat("fr-FR", {
  timeZone: ZONE,
  day: "2-digit",
  month: "2-digit",
  year: "numeric",
});
const built = new WeakMap(); // node -> the JSON it was built from

export function $(id) {
  return document.getElementById(id);
}

/** A copy of a <template>'s markup; the script fills its [data-slot] elements. */
export function clone(templateId) {
  return $(templateId).content.firstElementChild.cloneNode(true);
}

export function slot(node, name) {
  return node.querySelector(`[data-slot="${name}"]`);
}

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** `10:03:12` today, `02/12/2026 10:03:12` otherwise (Paris time, as the page says). */
export function time(iso) {
  if (!iso) return "—";
  const at = new Date(iso);
  const today = day.format(new Date()) === day.format(at);
  return (today ? "" : day.format(at) + " ") + clock.format(at);
}

export function size(bytes) {
  if (bytes < 1024) return `${bytes} octets`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1).replace(".", ",")} Ko`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(".", ",")} Mo`;
}

export function shortId(id) {
  return id ? id.slice(0, 8) : "";
}

export function plural(n, one, many) {
  return `${n} ${n > 1 ? many : one}`;
}

/**
 * Make `container` show `items` in order, one child per item keyed by `keyOf(item)`.
 * A child is rebuilt only when its item changed, and nodes already in place are not
 * moved, so focus (restored by `data-focus` on a rebuild) and open panels survive.
 */
export function reconcile(container, items, keyOf, build) {
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
    if (container.children[index] !== node) {
      container.insertBefore(node, container.children[index] || null);
    }
  });
}
