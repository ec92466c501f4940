"""Benchmark: simulate ~100k, ~300k and ~1,000,000 incidents and write them out.
Target (issue 4): 1,000,000 incidents in under 30 s, memory proportional to the output.

    python bench/simulate_bench.py

Each size runs in its own process so peak RSS is that run's alone.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bakersfield-like over 2015..2025 gives ~3,500 incidents at size 1.
SIZES = {"~100k": 28.0, "~300k": 85.0, "~1M": 285.0}


def worker(size: float, out: str) -> None:
    from gvrs.data.simulate import simulate
    from gvrs.data.simulate.output import write_city

    started = time.perf_counter()
    city = simulate("bakersfield-like", years=(2015, 2025), seed=1, size=size)
    simulated = time.perf_counter() - started
    write_city(city, Path(out))
    total = time.perf_counter() - started
    print(
        json.dumps(
            {
                "incidents": len(city.events),
                "rows": len(city.incident_rows),
                "simulate_s": simulated,
                "total_s": total,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(float(sys.argv[2]), sys.argv[3])
        return
    print(
        f"{'size':<6} {'incidents':>10} {'simulate s':>10} {'+write s':>9} {'peak MB':>8} "
        f"{'MB per 100k':>11}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in SIZES.items():
            out = subprocess.run(
                [sys.executable, __file__, "--worker", str(size), str(Path(tmp) / label)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{label:<6} {r['incidents']:>10,} {r['simulate_s']:>10.1f} {r['total_s']:>9.1f} "
                f"{r['peak_mb']:>8.0f} {100_000 * r['peak_mb'] / r['incidents']:>11.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
