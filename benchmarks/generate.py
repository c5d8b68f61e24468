"""Wall time and peak memory of `ovni generate` at growing customer counts (not a test; may take minutes).

Each size runs in its own `ovni generate` process, so its peak RSS is that process's alone (`os.wait4`).
The default size (1,500 customers) is the baseline the other rows are compared with.

    .venv/bin/python benchmarks/generate.py [--customers 1500 15000 150000] [--weeks 40]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OVNI = Path(sys.executable).with_name("ovni")


def run_generate(customers: int, weeks: int, out: Path) -> tuple[float, float, int, int]:
    """(wall seconds, peak RSS in MiB, transaction rows, transacciones.parquet bytes) of one generate run."""
    command = [str(OVNI), "generate", "--out", str(out), "--customers", str(customers), "--weeks", str(weeks)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"ovni generate --customers {customers} failed with exit code {process.returncode}")
    rows = next(int(line.split(":")[1].split()[0].replace(",", "")) for line in output.splitlines()
                if line.startswith("transacciones"))  # fmt: skip
    return wall, usage.ru_maxrss / 1024, rows, (out / "transacciones.parquet").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1500, 15000, 150000])
    parser.add_argument("--weeks", type=int, default=40)
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print(f"{'customers':>10} {'rows':>12} {'wall s':>8} {'peak RSS MiB':>13} {'MB on disk':>11} "
          f"{'rows/s':>10} {'time ×base':>10}")  # fmt: skip
    baseline = None
    for customers in args.customers:
        with tempfile.TemporaryDirectory() as folder:
            wall, rss, rows, size = run_generate(customers, args.weeks, Path(folder))
        baseline = baseline or wall
        print(
            f"{customers:>10,} {rows:>12,} {wall:>8.1f} {rss:>13.0f} {size / 1e6:>11.1f} "
            f"{rows / wall:>10,.0f} {wall / baseline:>10.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
