"""Start `omnidoc-sandbox serve` again and again; print start-to-first-2xx and idle RSS.

Run by hand (not in CI), Linux only (reads /proc):

    .venv/bin/python bench/startup.py [--runs 7] [--bin path/to/omnidoc-sandbox ...]

Each run starts the console script on a free port with a fresh data dir, polls
`GET /healthz` every 5 ms from the moment the process is spawned, and reports the time
to the first 200 and the CPU time the server process had used by then (user + system,
from /proc: less sensitive than wall time to other work on a shared machine); then it
waits until the server is ready (`/readyz`), lets it settle for a second and reads the
process's VmRSS. Prints min / median / max of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.server import console_script, free_port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found")


def _first_2xx(url: str, process: subprocess.Popen[bytes], timeout: float) -> float:
    started = time.perf_counter()
    with httpx.Client(timeout=1) as client:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            try:
                if client.get(url).status_code < 300:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    raise RuntimeError(f"no 2xx in {timeout}s")


def run_once(binary: str, settle: float) -> tuple[float, float, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="omnidoc-startup-") as tmp:
        env = {"PATH": "/usr/bin:/bin", "OMNIDOC_DATA_DIR": str(Path(tmp) / "data")}
        process = subprocess.Popen(
            [binary, "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            elapsed = _first_2xx(f"{base}/healthz", process, timeout=30)
            cpu = cpu_seconds(process.pid)
            _first_2xx(f"{base}/readyz", process, timeout=30)
            time.sleep(settle)
            return elapsed, cpu, rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=15)


def summary(values: list[float], unit: str, digits: int) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"min {low:.{digits}f} / median {mid:.{digits}f} / max {high:.{digits}f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds idle before RSS")
    parser.add_argument(
        "--bin",
        action="append",
        help="console script(s) to compare, runs interleaved (default: this checkout's)",
    )
    args = parser.parse_args()
    binaries = args.bin or [console_script()]
    results: dict[str, tuple[list[float], list[float], list[float]]] = {
        b: ([], [], []) for b in binaries
    }
    for run in range(1, args.runs + 1):
        for binary in binaries:  # interleaved, so machine noise hits each alike
            elapsed, cpu, resident = run_once(binary, args.settle)
            for values, value in zip(results[binary], (elapsed, cpu, resident), strict=True):
                values.append(value)
            print(
                f"run {run} {binary}: first 2xx after {elapsed:.3f} s ({cpu:.2f} s CPU), "
                f"idle RSS {resident:.1f} MiB"
            )
    for binary, (starts, cpus, rss) in results.items():
        print(binary)
        print(f"  start to first 2xx: {summary(starts, 's', 3)}")
        print(f"  CPU to first 2xx:   {summary(cpus, 's', 2)}")
        print(f"  idle RSS:           {summary(rss, 'MiB', 1)}")


if __name__ == "__main__":
    main()
