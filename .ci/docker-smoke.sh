#!/usr/bin/env bash
# CI's Docker step: the image builds, starts healthy, answers the Omnidoc document's
# curl examples, keeps its data across a restart on its volume, and the compose file
# comes up healthy and shows the whole flow (webhook into the built-in inbox, and a
# scenario practitioner's automatic answer) and passes the README's vendor test with the
# Docker values (its receiver on the host, called back at host.docker.internal).
# With SMOKE_POSTGRES_URL (a PostgreSQL database on 127.0.0.1), the image also runs
# on it: draft, upload, `omnidoc-sandbox reset` inside the container.
# Not optional: any failure prints "Docker step failed: …" and exits non-zero.
# Needs root (installs and starts Docker's engine through ../shared/tools/docker-engine.sh).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ENGINE_SCRIPT=$ROOT/../shared/tools/docker-engine.sh
PYTHON_IMAGE=${PYTHON_IMAGE:-python:3.11-slim}
IMAGE=omnidoc-sandbox:ci
TAG=omnidoc-ci-$$
PORT=${DOCKER_SMOKE_PORT:-18080}          # docker run, on 127.0.0.1
COMPOSE_PORT=${DOCKER_SMOKE_COMPOSE_PORT:-18081}
WORK=$(mktemp -d)
export COMPOSE_PROJECT_NAME=$TAG

stage="starting"
container_started=0
compose_started=0

say() { printf '  - %s\n' "$*"; }
fail() {
  echo "Docker step failed: $* (while $stage)" >&2
  if [ "$container_started" = 1 ]; then
    echo "--- last container logs ---" >&2
    docker logs --tail 40 "$TAG" >&2 2>&1 || true
  fi
  if [ "$compose_started" = 1 ]; then
    echo "--- last compose logs ---" >&2
    docker compose logs --tail 40 >&2 2>&1 || true
  fi
  exit 1
}
on_error() {
  local rc=$?
  # In a command substitution only the outer shell reports.
  [ "$BASHPID" = "$$" ] || exit "$rc"
  fail "command '${BASH_COMMAND}' exited $rc at line ${BASH_LINENO[0]}"
}
cleanup() {
  docker rm -f "$TAG" >/dev/null 2>&1 || true
  docker volume rm "$TAG-data" >/dev/null 2>&1 || true
  if [ "$compose_started" = 1 ]; then docker compose down -v >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap on_error ERR
trap cleanup EXIT

# json FIELD: read a JSON document on stdin and print one member (a.b.c) of it.
json() { python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))' "$1"; }

# request METHOD URL [curl args...]: prints the body, then the status on the last line.
request() { local m=$1 u=$2; shift 2; curl -sS -X "$m" -w '\n%{http_code}' "$@" "$u"; }
status_of() { tail -n1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
expect() { # expect STATUS RESPONSE WHAT
  [ "$(status_of "$2")" = "$1" ] || fail "$3: expected HTTP $1, got $(status_of "$2"): $(body_of "$2" | head -c 500)"
}

wait_healthy() { # wait_healthy CONTAINER SECONDS
  local deadline=$((SECONDS + $2)) state
  while :; do
    state=$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1")
    case $state in
      running/healthy) return 0 ;;
      running/unhealthy) fail "container $1 is unhealthy" ;;
      exited/* | dead/*) fail "container $1 stopped ($state)" ;;
    esac
    [ $SECONDS -lt "$deadline" ] || fail "container $1 not healthy after $2 s ($state)"
    sleep 0.5
  done
}

stage="installing Docker's engine"
[ -f "$ENGINE_SCRIPT" ] || fail "$ENGINE_SCRIPT not found: CI expects shared/ beside the repository"
bash "$ENGINE_SCRIPT"

stage="building the image (classic builder, PYTHON_IMAGE=$PYTHON_IMAGE)"
say "$stage"
t0=$SECONDS
# The classic builder on purpose (compose below builds with BuildKit): both must work.
DOCKER_BUILDKIT=0 docker build -q --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" -t "$IMAGE" . >/dev/null 2>"$WORK/build.log" \
  || { tail -30 "$WORK/build.log" >&2; fail "docker build failed"; }
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
say "built $IMAGE in $((SECONDS - t0)) s, $((size / 1000000)) MB"
[ "$(docker run --rm --entrypoint id "$IMAGE" -u)" != 0 ] || fail "the image runs as root"

stage="starting the container"
say "$stage"
docker run -d --name "$TAG" -p "127.0.0.1:$PORT:8000" -v "$TAG-data:/data" "$IMAGE" >/dev/null
container_started=1
wait_healthy "$TAG" 90

stage="playing the Omnidoc document's examples"
say "$stage"
export API_KEY=sandbox-key-a API_URL=http://127.0.0.1:$PORT/api/interop/v1/drafts
cd "$WORK"
printf '\x89PNG\r\n\x1a\nsandbox a' >a.png
printf '\x89PNG\r\n\x1a\nsandbox b' >b.png
printf '\x89PNG\r\n\x1a\nsandbox c' >c.png
# "Exemple de requête API", as printed: its 10-digit author_rpps is refused.
r=$(request POST "$API_URL/" -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \
  -d '{"author_rpps": "1111111111", "patient": {"first_name": "Jeanne", "last_name": "Dupuis"}, "context": {"id": "1234"}}')
expect 422 "$r" "the document's example as printed"
# The same with an RPPS of the default fixtures.
r=$(request POST "$API_URL/" -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \
  -d '{"author_rpps": "10002170750", "patient": {"first_name": "Jeanne", "last_name": "Dupuis"}, "context": {"id": "1234"}}')
expect 200 "$r" "creating a draft"
draft_id=$(body_of "$r" | json id)
redirect_url=$(body_of "$r" | json redirect_url)
[ "$redirect_url" = "http://127.0.0.1:$PORT/interop/drafts/$draft_id" ] || fail "unexpected redirect_url $redirect_url"
# "Single file upload", then "Multiple files upload".
r=$(request POST "$API_URL/$draft_id/files/" -H "Authorization: Bearer $API_KEY" -F 'file=@a.png')
expect 200 "$r" "uploading one file"
[ "$(body_of "$r" | json files.0.filename)" = a.png ] || fail "upload answer does not list a.png"
r=$(request POST "$API_URL/$draft_id/files/" -H "Authorization: Bearer $API_KEY" -F 'file=@b.png' -F 'file=@c.png')
expect 200 "$r" "uploading two files"
r=$(request GET "$API_URL/$draft_id" -H "Authorization: Bearer $API_KEY")
expect 200 "$r" "reading the draft back"
files=$(body_of "$r" | python3 -c 'import json, sys; print(",".join(sorted(f["filename"] for f in json.load(sys.stdin)["files"])))')
[ "$files" = "a.png,b.png,c.png" ] || fail "the draft lists files '$files', expected a.png,b.png,c.png"
# Visiting redirect_url turns it into a draft: no more uploads.
r=$(request GET "$redirect_url")
expect 200 "$r" "visiting redirect_url"
r=$(request POST "$API_URL/$draft_id/files/" -H "Authorization: Bearer $API_KEY" -F 'file=@a.png')
expect 409 "$r" "uploading after the visit"
# The pages' templates and static files are in the image (package data).
for path in /interop/drafts/new /static/omnidoc.css /static/prefill.js; do
  r=$(request GET "http://127.0.0.1:$PORT$path")
  expect 200 "$r" "GET $path"
done
r=$(request GET "$API_URL/$draft_id" -H "Authorization: Bearer sandbox-key-b")
expect 404 "$r" "reading another key's draft"
cd "$ROOT"

stage="restarting the container on its volume"
say "$stage"
docker restart "$TAG" >/dev/null
wait_healthy "$TAG" 90
r=$(request GET "$API_URL/$draft_id" -H "Authorization: Bearer $API_KEY")
expect 200 "$r" "reading the draft after the restart"
[ "$(body_of "$r" | json status)" = draft ] || fail "the draft lost its state across the restart"
[ "$(body_of "$r" | json context)" = '{"id": "1234"}' ] || fail "the draft lost its context across the restart"
file_url=$(body_of "$r" | python3 -c 'import json, sys; print(next(f["url"] for f in json.load(sys.stdin)["files"] if f["filename"] == "c.png"))')
curl -sSf -H "Authorization: Bearer $API_KEY" -o "$WORK/c.back" "$file_url" \
  || fail "downloading a stored file after the restart"
cmp -s "$WORK/c.png" "$WORK/c.back" || fail "a stored file changed across the restart"
docker rm -f "$TAG" >/dev/null
container_started=0

if [ -n "${SMOKE_POSTGRES_URL:-}" ]; then
  # The same image on PostgreSQL. Host networking keeps every connection on loopback:
  # the container reaches the CI cluster on 127.0.0.1 and listens on 127.0.0.1 only.
  stage="running the image on PostgreSQL"
  say "$stage"
  pg_port=${DOCKER_SMOKE_PG_HTTP_PORT:-18082}
  docker run -d --name "$TAG" --network host -e "OMNIDOC_DATABASE_URL=$SMOKE_POSTGRES_URL" \
    -v "$TAG-data:/data" "$IMAGE" omnidoc-sandbox serve --host 127.0.0.1 --port "$pg_port" >/dev/null
  container_started=1
  pg_base=http://127.0.0.1:$pg_port
  deadline=$((SECONDS + 60))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$pg_base/readyz")" = 200 ]; do
    [ "$(docker inspect -f '{{.State.Running}}' "$TAG")" = true ] || fail "container stopped"
    [ $SECONDS -lt "$deadline" ] || fail "/readyz not 200 after 60 s"
    sleep 0.5
  done
  [[ "$(docker logs "$TAG" 2>&1)" == *"database : postgresql+psycopg://"* ]] || fail "the server is not on PostgreSQL"
  r=$(request POST "$pg_base/api/interop/v1/drafts" -H "Authorization: Bearer $API_KEY" \
    -H "Content-Type: application/json" -d '{"author_rpps": "10002170750", "context": {"id": "pg"}}')
  expect 200 "$r" "creating a draft on PostgreSQL"
  draft_id=$(body_of "$r" | json id)
  r=$(cd "$WORK" && request POST "$pg_base/api/interop/v1/drafts/$draft_id/files/" \
    -H "Authorization: Bearer $API_KEY" -F 'file=@a.png')
  expect 200 "$r" "uploading a file on PostgreSQL"
  r=$(request GET "$pg_base/api/interop/v1/drafts/$draft_id" -H "Authorization: Bearer $API_KEY")
  expect 200 "$r" "reading the draft on PostgreSQL"
  [ "$(body_of "$r" | json files.0.filename)" = a.png ] || fail "the draft on PostgreSQL lists no a.png"
  docker exec "$TAG" omnidoc-sandbox reset --yes >/dev/null || fail "omnidoc-sandbox reset in the container"
  r=$(request GET "$pg_base/api/interop/v1/drafts/$draft_id" -H "Authorization: Bearer $API_KEY")
  expect 404 "$r" "reading the draft after reset"
  docker rm -f "$TAG" >/dev/null
  docker volume rm "$TAG-data" >/dev/null
  container_started=0
fi

stage="docker compose up --wait (PYTHON_IMAGE=$PYTHON_IMAGE, port $COMPOSE_PORT)"
say "$stage"
docker compose config -q
compose_started=1
PYTHON_IMAGE=$PYTHON_IMAGE SANDBOX_PORT=$COMPOSE_PORT docker compose up -d --build --wait --wait-timeout 120 >"$WORK/compose.log" 2>&1 \
  || { tail -20 "$WORK/compose.log" >&2; fail "docker compose up did not come up healthy"; }
base=http://127.0.0.1:$COMPOSE_PORT
stage="driving a draft through compose: the built-in inbox, then the report"
say "$stage"
r=$(request POST "$base/api/interop/v1/drafts" -H "Authorization: Bearer sandbox-key-a" -H "Content-Type: application/json" \
  -d '{"author_rpps": "10002170750", "recipient_rpps": "10001234565", "context": {"id": "compose"}}')
expect 200 "$r" "creating a draft through compose"
draft_id=$(body_of "$r" | json id)
for move in visit publish; do
  r=$(request POST "$base/_sandbox/drafts/$draft_id/$move" -H "Authorization: Bearer sandbox-key-a")
  expect 200 "$r" "POST /_sandbox/drafts/{id}/$move"
done
r=$(request GET "$base/_sandbox/inbox/vendor-a?wait=15")
expect 200 "$r" "reading the inbox"
body_of "$r" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
assert items, "no notification reached the inbox"
event = json.loads(items[0]["body"])
assert event["data"]["id"] == sys.argv[1] and event["data"]["status"] == "in_progress", event
assert event["data"]["context"] == {"id": "compose"}, event
assert "webhook-signature" in items[0]["headers"], items[0]["headers"]
' "$draft_id" || fail "the compose default webhook did not deliver a signed notification to the inbox"
# The report: fpdf2, fontTools and the packaged font must all be in the trimmed image.
r=$(request POST "$base/_sandbox/drafts/$draft_id/complete" -H "Authorization: Bearer sandbox-key-a" \
  -H "Content-Type: application/json" -d '{"report_text": "Avis : nævus bénin… œdème, 20 €."}')
expect 200 "$r" "POST /_sandbox/drafts/{id}/complete"
curl -sSf -H "Authorization: Bearer sandbox-key-a" -o "$WORK/report.pdf" "$base/api/interop/v1/drafts/$draft_id/report" \
  || fail "downloading the report PDF"
[ "$(head -c 5 "$WORK/report.pdf")" = "%PDF-" ] || fail "the report is not a PDF"

# A scenario practitioner of the compose fixtures answers by itself: create, visit,
# publish, and the completion notification reaches the inbox with its report, no
# `complete` call.
stage="a draft to scenario practitioner 10006789019 completing by itself"
say "$stage"
r=$(request GET "$base/_sandbox/inbox/vendor-a")
expect 200 "$r" "reading the inbox"
newest=$(body_of "$r" | json items.0.id)
r=$(request POST "$base/api/interop/v1/drafts" -H "Authorization: Bearer sandbox-key-a" -H "Content-Type: application/json" \
  -d '{"author_rpps": "10002170750", "recipient_rpps": "10006789019", "context": {"id": "autopilot"}}')
expect 200 "$r" "creating a draft to 10006789019"
auto_id=$(body_of "$r" | json id)
for move in visit publish; do
  r=$(request POST "$base/_sandbox/drafts/$auto_id/$move" -H "Authorization: Bearer sandbox-key-a")
  expect 200 "$r" "POST /_sandbox/drafts/{id}/$move (scenario practitioner)"
done
[ "$(body_of "$r" | json autopilot_due_at)" != null ] || fail "the published draft shows no autopilot_due_at"
deadline=$((SECONDS + 30))
completed=
while [ -z "$completed" ]; do
  [ $SECONDS -lt "$deadline" ] || fail "no completion of $auto_id reached the inbox within 30 s"
  r=$(request GET "$base/_sandbox/inbox/vendor-a?after=$newest&wait=10")
  expect 200 "$r" "waiting on the inbox"
  items=$(body_of "$r")
  newest=$(json items.0.id <<<"$items" 2>/dev/null || echo "$newest")
  completed=$(python3 -c '
import json, sys
for item in json.loads(sys.argv[2])["items"]:
    data = json.loads(item["body"])["data"]
    if data["id"] == sys.argv[1] and data["status"] == "completed":
        print(data["report_url"])
' "$auto_id" "$items")
done
# report_url names the address the draft was published through, as a manual answer's would.
[ "$completed" = "$base/api/interop/v1/drafts/$auto_id/report" ] || fail "unexpected report_url $completed"
curl -sSf -H "Authorization: Bearer sandbox-key-a" -o "$WORK/auto.pdf" "$completed" \
  || fail "downloading the report of the automatic answer"
[ "$(head -c 5 "$WORK/auto.pdf")" = "%PDF-" ] || fail "the report of the automatic answer is not a PDF"
say "completed by itself; report $(wc -c <"$WORK/auto.pdf") bytes"

# The README's vendor test, exactly as printed, against the compose sandbox with the
# Docker values it shows: the receiver listens on 0.0.0.0 and the sandbox calls it back
# at host.docker.internal (the compose file maps it to the host).
stage="the README's vendor test against the compose sandbox (WEBHOOK_HOST=host.docker.internal)"
say "$stage"
[ -x "$ROOT/.venv/bin/python" ] || fail "$ROOT/.venv/bin/python not found: run make install first"
(cd "$ROOT" && .venv/bin/python -m tests.readme "## A vendor's integration test (pytest)") >"$WORK/test_vendor.py"
(cd "$WORK" && SANDBOX_URL=$base WEBHOOK_BIND=0.0.0.0 WEBHOOK_HOST=host.docker.internal \
  "$ROOT/.venv/bin/python" -m pytest -q -p no:cacheprovider test_vendor.py >"$WORK/vendor.log" 2>&1) \
  || { tail -30 "$WORK/vendor.log" >&2; fail "the README's vendor test failed against the compose sandbox"; }
say "$(tail -n1 "$WORK/vendor.log")"

stage="docker compose down -v"
say "$stage"
docker compose down -v >/dev/null 2>&1
compose_started=0
echo "Docker step passed: image $IMAGE ($((size / 1000000)) MB): examples, restart, ${SMOKE_POSTGRES_URL:+PostgreSQL, }compose, README vendor test"
