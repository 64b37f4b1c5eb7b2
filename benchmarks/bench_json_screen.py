"""How the strict-JSON screen's time grows with hostile input (issue 19): it must be linear.

Three shapes that defeated the old screen, from 4 kB to 64 kB: nested brackets then escaped quotes
outside any string (the quadratic one: 4 kB 0.18 s, 32 kB 9.8 s before), one unterminated string
of escaped quotes, and a valid array of many short strings with escaped quotes (the common case).
Each size is timed ``--repeat`` times (best of); the table shows seconds and microseconds per kB,
which stay flat when growth is linear, and the 64 kB/4 kB ratio (16 for linear, 256 for quadratic).
Also times ``axilla-kg recommend --case -`` (a fresh CLI process) on the quadratic shape at the
largest size. Asserts nothing about speed.

    python benchmarks/bench_json_screen.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from axilla_kg.inputs import safejson  # noqa: E402

SIZES = [4096, 8192, 16384, 32768, 65536]
SHAPES = {
    "brackets+escaped quotes": lambda n: ("[" * 70 + '\\"' * n)[:n],
    "unterminated string": lambda n: ('["' + '\\"' * n)[:n],
    "valid, escaped quotes": lambda n: "[" + ",".join(['"a\\"b"'] * (n // 7)) + "]",
}


def timed(text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        with contextlib.suppress(safejson.JSONInputError):
            safejson.loads(text, max_chars=1 << 22)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (shared machine)")
    print(f"{'shape':26} {'size':>7} {'seconds':>10} {'us/kB':>8}")
    for name, make in SHAPES.items():
        seconds = {}
        for size in SIZES:
            text = make(size)
            seconds[size] = timed(text, args.repeat)
            print(f"{name:26} {len(text):7d} {seconds[size]:10.6f} {seconds[size] / (len(text) / 1024) * 1e6:8.1f}")
        print(f"{name:26} ratio 64 kB / 4 kB: {seconds[SIZES[-1]] / max(seconds[SIZES[0]], 1e-9):.1f} (linear: 16)")
    body = SHAPES["brackets+escaped quotes"](SIZES[-1])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "axilla_kg", "recommend", "--case", "-"],
        input=body,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    print(f"recommend --case - (64 kB, fresh process): {elapsed:.2f} s, exit {done.returncode}: {done.stderr.strip()}")


if __name__ == "__main__":
    main()
