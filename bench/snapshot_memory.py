"""Memory while snapshots of large files are written and read; prints peak RSS growth.

Run by hand (not in CI), Linux only (reads /proc):

    .venv/bin/python bench/snapshot_memory.py [--mb 200] [--files 3]

Starts `omnidoc-sandbox serve` on a temp data dir, uploads `--files` generated files of
`--mb` MB each (streamed, as bench/upload_memory.py does), then measures:

- the server's RSS while `GET /_sandbox/admin/export` is written and streamed to a file
  the client writes to disk chunk by chunk;
- with the server stopped, the RSS of `omnidoc-sandbox export FILE` and of
  `omnidoc-sandbox import FILE --yes` into a new data dir (which creates the database).

Each figure is the peak RSS minus the process's RSS before the step (the server) or the
peak of the whole command (the CLI, which includes Python and the app's imports).
Target: growth well under the snapshot's size (flat memory), under 50 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.upload_memory import BOUNDARY, HEAD, TAIL, body, rss_kib
from bench.upload_memory import RssSampler as _RssSampler
from tests.e2e.server import SandboxServer, console_script


class RssSampler(_RssSampler):
    """bench/upload_memory.py's sampler, stopping quietly when the process has exited."""

    def run(self) -> None:
        try:
            super().run()
        except (RuntimeError, OSError):
            return  # exited: no VmRSS any more (a zombie) or no /proc entry


def _upload(client: httpx.Client, draft_id: str, size: int) -> None:
    response = client.post(
        f"/api/interop/v1/drafts/{draft_id}/files/",
        content=body(size, hashlib.sha256()),
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(HEAD) + size + len(TAIL)),
        },
    )
    assert response.status_code == 200, response.text


def _command_peak(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a CLI command, sampling its RSS; (peak MB, seconds)."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sampler = RssSampler(process.pid)
    sampler.start()
    output, _ = process.communicate()
    sampler.stop_event.set()
    sampler.join()
    assert process.returncode == 0, output.decode(errors="replace")
    return sampler.peak / 1024, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of each file, MB (10^6 B)")
    parser.add_argument("--files", type=int, default=3)
    args = parser.parse_args()
    size = args.mb * 1_000_000
    work = Path(tempfile.mkdtemp(prefix="omnidoc-snapshot-bench-"))
    env = {"OMNIDOC_MAX_FILE_BYTES": str(size + 1024 * 1024)}
    server = SandboxServer(work / "data", env=env)
    server.start()
    snapshot = work / "http.tar"
    try:
        assert server.process is not None
        pid = server.process.pid
        auth = {"Authorization": "Bearer sandbox-key-a"}
        with httpx.Client(base_url=server.base_url, headers=auth, timeout=600) as client:
            draft_id = client.post("/api/interop/v1/drafts", json={}).json()["id"]
            for _ in range(args.files):
                _upload(client, draft_id, size)
            client.get("/_sandbox/export", headers={"Authorization": "Bearer sandbox-key-b"})
            baseline = rss_kib(pid)
            sampler = RssSampler(pid)
            sampler.start()
            started = time.perf_counter()
            with (
                client.stream("GET", "/_sandbox/admin/export") as response,
                snapshot.open("wb") as out,
            ):
                assert response.status_code == 200
                for chunk in response.iter_bytes(256 * 1024):
                    out.write(chunk)
            elapsed = time.perf_counter() - started
            sampler.stop_event.set()
            sampler.join()
        total_mb = snapshot.stat().st_size / 1e6
        print(
            f"HTTP export: {total_mb:.0f} MB ({args.files} files of {args.mb} MB) in "
            f"{elapsed:.1f}s; server RSS before {baseline / 1024:.1f} MB, peak growth "
            f"{(sampler.peak - baseline) / 1024:.1f} MB",
            flush=True,
        )
    finally:
        server.stop()
    cli_env = {**os.environ, "OMNIDOC_DATA_DIR": str(work / "data")}
    exported = work / "cli.tar"
    peak, seconds = _command_peak([console_script(), "export", str(exported)], cli_env)
    print(
        f"CLI export: {exported.stat().st_size / 1e6:.0f} MB in {seconds:.1f}s; "
        f"peak RSS {peak:.1f} MB"
    )
    cli_env["OMNIDOC_DATA_DIR"] = str(work / "imported")
    peak, seconds = _command_peak([console_script(), "import", str(exported), "--yes"], cli_env)
    print(f"CLI import into a new data dir: {seconds:.1f}s; peak RSS {peak:.1f} MB")
    small = work / "small"
    peak_small, _ = _command_peak(
        [console_script(), "export", str(small)],
        {**os.environ, "OMNIDOC_DATA_DIR": str(work / "empty")},
    )
    print(f"CLI export of an empty sandbox (the baseline): peak RSS {peak_small:.1f} MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
