// The redirect landing follows its draft without a reload of the reader's own: when the
// status changes (a scenario practitioner's answer, a cancel over the API), the page is
// loaded again, once. It also drops the one-shot `?message=` from the address once shown.
"use strict";

(function () {
  const badge = document.getElementById("status");
  if (!badge || !badge.dataset.live) return;

  const address = new URL(window.location.href);
  if (address.searchParams.has("message")) {
    address.searchParams.delete("message");
    window.history.replaceState(window.history.state, "", address.pathname + address.search + address.hash);
  }

  const since = badge.dataset.status;
  if (since === "completed" || since === "cancelled") return; // nothing more will happen
  let leaving = false; // a form of the page is being sent: its answer is the next page
  document.addEventListener("submit", () => {
    leaving = true;
  });

  const pause = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));
  const url = `${badge.dataset.live}?since=${encodeURIComponent(since)}&wait=25`;

  async function follow() {
    let failures = 0;
    while (!leaving) {
      try {
        const response = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
        if (response.status === 404) return; // the draft is gone (a reset)
        if (response.ok) {
          const answer = await response.json();
          failures = 0;
          if (answer.status !== since) {
            if (!leaving) window.location.replace(badge.dataset.page);
            return;
          }
          continue;
        }
      } catch (error) {
        // The server is restarting, or the page is being left: try again shortly.
      }
      failures += 1;
      await pause(Math.min(500 * failures, 5000));
    }
  }

  follow();
})();
