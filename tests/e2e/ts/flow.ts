// A TypeScript vendor's flow with the types openapi-typescript generates from
// docs/openapi.json (default settings) and openapi-fetch. test_typescript_client.py
// type-checks it with `tsc --strict` next to the generated openapi.d.ts, then runs it
// with node against a real server: `node out/flow.js BASE_URL`.
import createClient from "openapi-fetch";
import type { components, paths } from "./openapi.js";

type Problem = components["schemas"]["Problem"];
type DraftStatus = components["schemas"]["DraftStatus"];

declare const process: { argv: string[] };

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`failed: ${what}`);
}

async function main(baseUrl: string): Promise<void> {
  const client = createClient<paths>({
    baseUrl,
    headers: { Authorization: "Bearer sandbox-key-a" },
  });

  // Every field of the create body is optional: one patient's first name is a body.
  const minimal = await client.POST("/api/interop/v1/drafts", {
    body: { patient: { first_name: "Jeanne" } },
  });
  check(minimal.data !== undefined, `create answered ${minimal.response.status}`);

  const created = await client.POST("/api/interop/v1/drafts", {
    body: {
      patient: { first_name: "Jeanne" },
      author_rpps: "10002170750",
      recipient_rpps: "10001234565",
    },
  });
  if (created.data === undefined) throw new Error(`create answered ${created.response.status}`);
  const path = { draft_id: created.data.id };

  const visited = await client.POST("/_sandbox/drafts/{draft_id}/visit", { params: { path } });
  check(visited.data?.status === "draft", "visit");

  // No body: the practitioners given at creation are used.
  const published = await client.POST("/_sandbox/drafts/{draft_id}/publish", {
    params: { path },
  });
  check(published.data !== undefined, `publish answered ${published.response.status}`);

  const view = await client.GET("/api/interop/v1/drafts/{draft_id}", { params: { path } });
  if (view.data === undefined) throw new Error(`pull view answered ${view.response.status}`);
  const status: DraftStatus = view.data.status;
  check(status === "in_progress", `status ${status}`);
  check(view.data.patient?.first_name === "Jeanne", "the patient's first name");

  // Optional fields with a default the sandbox applies are optional in the type too.
  const fault = await client.POST("/_sandbox/faults", { body: { status: 503 } });
  check(fault.data?.times === 1, "a fault with the defaults");
  const deleted = await client.DELETE("/_sandbox/faults");
  check(deleted.data?.deleted === 1, "faults deleted");

  // A 422 read as a problem: the Omnidoc document's own example has a 10-digit RPPS.
  const invalid = await client.POST("/api/interop/v1/drafts", {
    body: { author_rpps: "1111111111" },
  });
  const problem: Problem | undefined = invalid.error;
  check(invalid.response.status === 422, `invalid create answered ${invalid.response.status}`);
  check(problem?.code === "validation_failed", "the problem's code");
  check(problem?.errors?.[0]?.field === "author_rpps", "the problem's field");
  console.log("typescript flow ok");
}

// Never called: what the types must refuse (tsc fails if an expected error is missing).
export function refused(client: ReturnType<typeof createClient<paths>>): void {
  // @ts-expect-error: a first name is a string
  void client.POST("/api/interop/v1/drafts", { body: { patient: { first_name: 1 } } });
  // @ts-expect-error: a status a draft cannot have
  const status: DraftStatus = "sent";
  void status;
}

const baseUrl = process.argv[2];
if (baseUrl === undefined) throw new Error("usage: node out/flow.js BASE_URL");
await main(baseUrl);
