"""Run the benchmarks in sequence (each in its own process) and print all their figures,
then a summary of the verdicts: ``python -m bench.run_all``. Exit status 1 if any target is
missed or a benchmark failed.

``bot/`` comes from the working tree; to measure one commit while the tree is being edited, export
it and point BENCH_BOT_SRC at it::

    git archive HEAD bot | tar -x -C /tmp/bot-head && BENCH_BOT_SRC=/tmp/bot-head \
        python -m bench.run_all
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = (
    "bench_ack",
    "bench_ra_requests",
    "bench_memory",
    "bench_fanout",
    "bench_catalogue",
    "bench_first_progress",
    "bench_challenge",
    "bench_pictures",
    "bench_fair_turns",
    "bench_shared_boards",
    "bench_shards",
    "bench_feed",
)


def main() -> int:
    summary: list[tuple[str, str]] = []
    worst = 0
    t0 = time.monotonic()
    for name in BENCHMARKS:
        with subprocess.Popen(  # noqa: S603 (a fixed module name, no outside input)
            [sys.executable, "-m", f"bench.{name}"], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1,
        ) as process:
            assert process.stdout is not None
            verdicts = []
            for line in process.stdout:
                print(line, end="", flush=True)
                if line.startswith("verdict:"):
                    verdicts.append(line.strip())
            status = process.wait()
        worst = max(worst, status)
        summary.append((name, verdicts[-1] if verdicts else f"no verdict (exit status {status})"))
    print(f"\n== summary ({time.monotonic() - t0:.0f} s) ==")
    for name, line in summary:
        print(f"{name:<18} {line}")
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
