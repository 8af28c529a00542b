"""Regenerate fixtures/demo-seed.tar, the demo's snapshot (README, "Snapshots").

    .venv/bin/python scripts/make_demo_seed.py [--out fixtures/demo-seed.tar]

Starts `omnidoc-sandbox serve` on a temp data dir with the default fixtures and
OMNIDOC_BASE_URL=http://127.0.0.1:8000 (the emitted URLs name the usual address), then
makes, through the API only, drafts in every state for both keys: attachments, a
completed draft with its compte rendu drawn, a scenario practitioner's answer, and the
notifications delivered to the built-in inbox. Once everything has settled, the server
stops, the run-time webhook registrations made for the run are dropped (the fixtures'
webhooks apply in the demo), and `omnidoc-sandbox export` writes the file.

All data is synthetic: invented names, NIR and RPPS that only pass their check digits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AUTHOR, DERMATO, CARDIO, ANSWERS = "10002170750", "10001234565", "10002345675", "10006789019"


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small valid PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    row = b"\x00" + bytes(rgb) * width
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
PATIENTS = [
    {"first_name": "Jeanne", "last_name": "Démo", "birth_date": "1961-04-12", "gender": "F"},
    {"first_name": "Paul", "last_name": "Exemple", "birth_date": "1978-09-30", "gender": "M"},
    {"first_name": "Inès", "last_name": "Fictive", "birth_date": "1990-01-05", "gender": "F"},
    {"first_name": "Marc", "last_name": "Essai", "birth_date": "1955-11-21", "gender": "M"},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"never happened: {what}")
        time.sleep(0.1)


class Demo:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def call(self, method: str, path: str, key: str, **kwargs: Any) -> Any:
        response = self.http.request(
            method, path, headers={"Authorization": f"Bearer {key}"}, **kwargs
        )
        if not response.is_success:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if "json" in response.headers.get("content-type", "") else None

    def draft(self, key: str, n: int, recipient: str | None, text: str) -> str:
        body: dict[str, Any] = {
            "author_rpps": AUTHOR,
            "patient": PATIENTS[n % len(PATIENTS)],
            "text": text,
            "context": {"demo": True, "dossier": f"DEMO-{n:03d}"},
        }
        if recipient:
            body["recipient_rpps"] = recipient
        created = self.call("POST", "/api/interop/v1/drafts", key, json=body)
        return str(created["id"])

    def attach(self, key: str, draft_id: str, n: int) -> None:
        files = [
            ("file", (f"photo-{n}.png", _png(64, 48, (180, 120 + n * 20, 90)), "image/png")),
            ("file", (f"courrier-{n}.pdf", PDF, "application/pdf")),
        ]
        self.call("POST", f"/api/interop/v1/drafts/{draft_id}/files/", key, files=files)

    def move(self, key: str, draft_id: str, *steps: str) -> None:
        for step in steps:
            body = (
                {"report_text": "Avis : lésion d'aspect bénin, surveillance simple à 6 mois."}
                if step == "complete"
                else None
            )
            self.call("POST", f"/_sandbox/drafts/{draft_id}/{step}", key, json=body)


def build(demo: Demo, inbox_base: str) -> None:
    for key, inbox in (("sandbox-key-a", "vendor-a"), ("sandbox-key-b", "vendor-b")):
        demo.call("PUT", "/_sandbox/webhook", key, json={"url": f"{inbox_base}/{inbox}"})
    a, b = "sandbox-key-a", "sandbox-key-b"
    temporary = demo.draft(a, 0, DERMATO, "Lésion pigmentée du dos, photos jointes.")
    demo.attach(a, temporary, 1)
    visited = demo.draft(a, 1, DERMATO, "Eczéma chronique des mains, avis thérapeutique.")
    demo.move(a, visited, "visit")
    waiting = demo.draft(a, 2, CARDIO, "ECG joint : bloc de branche droit isolé ?")
    demo.attach(a, waiting, 2)
    demo.move(a, waiting, "visit", "publish")
    completed = demo.draft(a, 3, DERMATO, "Kératose séborrhéique probable, confirmation.")
    demo.attach(a, completed, 3)
    demo.move(a, completed, "visit", "publish", "complete")
    demo.http.get(
        f"/api/interop/v1/drafts/{completed}/report",
        headers={"Authorization": f"Bearer {a}"},
    ).raise_for_status()  # the compte rendu, drawn and stored
    cancelled = demo.draft(a, 0, CARDIO, "Souffle systolique, demande annulée par le patient.")
    demo.move(a, cancelled, "visit", "publish", "cancel")
    scenario = demo.draft(a, 1, ANSWERS, "Douleurs articulaires des doigts, avis rhumatologique.")
    demo.move(a, scenario, "visit", "publish")  # answered by itself after 3 s
    other = demo.draft(b, 2, DERMATO, "Psoriasis du cuir chevelu.")
    demo.move(b, other, "visit", "publish", "complete")
    demo.draft(b, 3, None, "Brouillon d'un autre éditeur.")

    def settled() -> bool:
        view = demo.call("GET", f"/api/interop/v1/drafts/{scenario}", a)
        items = demo.call("GET", "/_sandbox/admin/deliveries", a)["items"]
        return view["status"] == "completed" and all(i["status"] == "delivered" for i in items)

    _until(settled, "the scenario answer and every notification delivered")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "demo-seed.tar")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omnidoc-demo-seed-"))
    port = _free_port()
    env = {
        **os.environ,
        "OMNIDOC_DATA_DIR": str(work / "data"),
        "OMNIDOC_BASE_URL": "http://127.0.0.1:8000",
        "OMNIDOC_FIXTURES": str(ROOT / "fixtures" / "default.yaml"),
    }
    for name in ("OMNIDOC_DATABASE_URL", "OMNIDOC_SEED", "OMNIDOC_ADMIN_TOKEN"):
        env.pop(name, None)
    server = subprocess.Popen(  # noqa: S603  (our own console script)
        [str(BIN / "omnidoc-sandbox"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        _until(ready, "the server ready")
        build(Demo(base), f"{base}/_sandbox/inbox")
    finally:
        server.terminate()
        server.wait(timeout=30)
    # The registrations were for this run's port: the fixtures' webhooks apply in the demo.
    import sqlite3

    with sqlite3.connect(work / "data" / "sandbox.db") as db:
        db.execute("DELETE FROM webhook_endpoint")
    subprocess.run(  # noqa: S603  (our own console script)
        [str(BIN / "omnidoc-sandbox"), "export", str(args.out.resolve())], env=env, check=True
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
