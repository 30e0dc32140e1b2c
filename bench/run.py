"""The benchmark harness: every step of chatlake timed on a generated landing day, beside the
floor (Spark reading the day and writing it once) and a peer (DuckDB computing the reports).

    .venv/bin/python bench/run.py --messages 1000000 5000000 --repeats 3
    .venv/bin/python bench/run.py --messages 20000 --repeats 1          # smoke run
    .venv/bin/python bench/run.py --render                              # RESULTS.md from JSON

Every step runs as users run it: `./spark-submit.sh <command> ... --conf <bench yaml>`, one
process (and JVM) per command, so JVM start-up counts; the CLI's own "done in" line gives the
in-job time, and the difference is reported as start-up and exit. For each size N:

1. `generate` writes history days plus the measured day D (same synthetic world, N messages
   a day, so D is an ordinary day: late lines and retries of the day before, receipts,
   membership and user events); `backfill` runs the nightly for the history days (untimed).
2. Timed, each --repeats times from a restored copy of the warehouse (and of the landing
   zone where a step changes it), so that every repeat does the same work: ingest; topics at
   sample rate 0.25 and 1.0 (a rerun at another rate would merge into the first run's rows, so
   each starts from the warehouse as ingest left it); aggregate; retention; nightly as a
   whole; report; the floor (bench/floor.py); the peer (bench/peer_duckdb.py); delete-users
   for 1 user (the heaviest sender) and for 100 users (the 50 heaviest senders and 50 picked
   at random); purge after the 100-user erasure; and `init` on a ready warehouse, which is
   what every command pays before its work (start-up, session, table checks).
3. Figures: median wall seconds, messages per second (N / wall), median in-job seconds, and
   the peak resident memory (VmHWM) of the Spark JVM, polled from /proc. The files each
   erasure and purge rewrote are read from the Delta log's commitInfo (what DESCRIBE HISTORY
   shows) of every table they committed to, and landing files are compared before and after.

Raw numbers go to bench/results/<time>-<sizes>.json; bench/RESULTS.md is rebuilt from the
newest result of every size in bench/results/ (text outside its generated block is kept).
Runs below 1,000,000 messages are labelled smoke runs. Steps that exit 2 with "not
implemented yet" are recorded as such, never with numbers.

The harness itself is the package bench/harness/: processes.py (running a command, watching
its memory), snapshots.py and delta_log.py (warehouse copies; what a command committed and
changed on disk), steps.py (step names, step lines, a step's figures), sizes.py (the bench
of one size), results.py and render.py (bench/results/*.json to RESULTS.md), cli.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
