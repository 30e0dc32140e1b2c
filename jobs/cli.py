"""One thin command line for every chatlake job.

Parses arguments, loads the config named by --conf, builds the one Spark session and hands
both to the job's `run(spark, config, args)`. A failure prints one line naming the command and
the cause (the whole trace with --verbose) and exits non-zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import logging
import sys
import time
import traceback
from collections.abc import Callable, Sequence

from jobs.config import ConfigError, load_config
from jobs.progress import LOGGER, configure_logging
from jobs.redaction import forget_protected, protect, redact_arguments, scrub, split_user_ids

DEFAULT_CONFIG = "conf/local.yaml"
EXIT_FAILURE = 1
EXIT_USAGE = 2

# command -> module under jobs/ with a `run(spark, config, args)` function
COMMANDS: dict[str, str] = {
    "nightly": "jobs.nightly",
    "backfill": "jobs.nightly",
    "ingest": "jobs.ingest",
    "topics": "jobs.topics",
    "aggregate": "jobs.aggregate",
    "retention": "jobs.retention",
    "delete-users": "jobs.erasure",
    "purge": "jobs.purge",
    "generate": "jobs.generate",
    "demo": "jobs.demo",
    "report": "jobs.report",
    "init": "jobs.warehouse",
    "stream": "jobs.stream",
    "serve": "jobs.endpoint",
}
ENTRY_POINTS: dict[str, str] = {"backfill": "run_backfill", "init": "run"}
# Commands whose arguments can name users; their usage errors do not echo arguments.
NAMES_USERS = ("delete-users",)


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date (YYYY-MM-DD)") from None


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"'{value}' must be 1 or more")
    return number


def user_id_list(value: str) -> list[str]:
    ids = split_user_ids(value)
    if not ids:
        raise argparse.ArgumentTypeError("needs at least one user id")
    return ids


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, and names no user id."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"chatlake: {self.prog}: {scrub(message)} (see --help)\n")


def _unrecognized(command: str, extra: list[str]) -> str:
    if command in NAMES_USERS:
        # `--user-ids u_1, u_2` leaves u_2 over: an id, so only their count is said.
        return f"{len(extra)} unrecognized argument(s) (user ids are comma-separated, without spaces)"
    return f"unrecognized arguments: {' '.join(extra)}"


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--conf", default=DEFAULT_CONFIG, metavar="FILE",
                        help=f"YAML config (default {DEFAULT_CONFIG})")
    common.add_argument("--master", metavar="URL",
                        help="Spark master, e.g. local[2], spark://host:7077, yarn (default: config, else local[*])")
    common.add_argument("--verbose", action="store_true", help="debug logging and full traces on failure")

    parser = _Parser(
        prog="spark-submit.sh",
        description="chatlake: raw messaging events to a private, erasable Delta star schema.",
        epilog="Also: `test [--unit] [pytest args]` runs lint, types and the tests (--unit: the fast "
        "tier only); `setup` only creates .venv and fetches the Delta jars. Options of spark-submit itself "
        "(--executor-memory, --driver-memory, --deploy-mode, ...; --spark-conf KEY=VALUE for "
        "its --conf) pass through to it.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help_text, description=help_text)

    nightly = add("nightly", "ingest, topics, aggregate and retention for one landing day")
    nightly.add_argument("--date", type=iso_date, help="landing day dt=D (default: yesterday, UTC)")
    backfill = add("backfill", "nightly for every landing day from --from to --to, in order")
    backfill.add_argument("--from", dest="start", type=iso_date, required=True)
    backfill.add_argument("--to", dest="end", type=iso_date, required=True)
    for name, text in (
        ("ingest", "landing dt=D into the fact and dimension tables"),
        ("topics", "topic assignment for a sample of dt=D's messages"),
        ("aggregate", "daily metrics for every date dt=D's data touched"),
    ):
        add(name, text).add_argument("--date", type=iso_date, required=True, help="landing day")
    retention = add("retention", "drop landing folders, partitions and rows past their retention")
    retention.add_argument("--as-of", dest="as_of", type=iso_date, required=True)
    delete = add("delete-users", "erase users from every table and the landing zone")
    who = delete.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-ids", type=user_id_list, metavar="U1,U2", help="comma-separated user ids")
    who.add_argument("--requests", metavar="FILE", help="a file with one user id per line")
    add("purge", "make deletions physical (REORG ... APPLY (PURGE), then VACUUM)")
    generate = add("generate", "write synthetic raw events to the landing path")
    generate.add_argument("--start", type=iso_date, required=True, help="first day")
    generate.add_argument("--days", type=positive_int, default=1)
    generate.add_argument("--messages-per-day", type=positive_int, default=10_000)
    generate.add_argument("--seed", type=int, default=1)
    demo = add("demo", "generate a week, run nightly for each day, print the design's reports")
    demo.add_argument("--days", type=positive_int, default=7)
    demo.add_argument("--messages-per-day", type=positive_int, default=2_000)
    demo.add_argument("--seed", type=int, default=7)
    report = add("report", "print the design's analytical reports, or one named report")
    report.add_argument("name", nargs="?", choices=("experiments", "versions", "access"),
                        help="experiments: per variant with 95%% intervals and tests against control; "
                        "versions: delivery and read rates per app version; "
                        "access: who read which tables through the SQL endpoint on --date, denied first")
    report.add_argument("--experiment", metavar="E", help="report experiments: only this experiment")
    report.add_argument("--date", type=iso_date, required=True, help="the (last) date reported")
    report.add_argument("--days", type=positive_int, default=1, help="how many days up to --date")
    add("init", "create every table and fill the static dimensions")
    stream = add("stream", "minute counters for operations from new landing files (or Kafka), until stopped")
    stream.add_argument("--available-now", dest="available_now", action="store_true",
                        help="process everything that has landed, then stop")
    serve = add("serve", "the SQL endpoint (Trino) over the warehouse with access policies and audit, until stopped")
    serve.add_argument("--detach", action="store_true", help="start it in the background; return once a query runs")
    serve.add_argument("--stop", action="store_true", help="stop the running one (and flush its audit)")
    return parser


def _entry_point(command: str) -> Callable[..., object] | None:
    try:
        module = importlib.import_module(COMMANDS[command])
    except ModuleNotFoundError as error:
        if error.name == COMMANDS[command]:
            return None
        raise
    return getattr(module, ENTRY_POINTS.get(command, "run"), None)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    tokens = list(argv if argv is not None else sys.argv[1:])
    command_line = redact_arguments(tokens)
    # The ids are hidden from the first line on: a usage error may echo them too.
    forget_protected()
    protect(command_line.user_ids)
    parser = build_parser()
    args, extra = parser.parse_known_args(tokens)
    if extra:
        parser.error(_unrecognized(args.command, extra))
    configure_logging(args.verbose)
    try:
        config = load_config(args.conf)
    except ConfigError as error:
        print(f"chatlake: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "serve":
        from jobs.endpoint import AccessSetupError, check_files, clear_leftovers

        try:
            check_files(config)
            clear_leftovers(config)
        except AccessSetupError as error:
            print(f"chatlake: serve refused: {error}", file=sys.stderr)
            return EXIT_FAILURE
    job = _entry_point(args.command)
    if job is None:
        print(f"chatlake: '{args.command}' is not implemented yet", file=sys.stderr)
        return EXIT_USAGE

    from jobs import run_history, warehouse
    from jobs.concurrency import retrying_conflicts
    from jobs.nightly import yesterday_utc
    from jobs.progress import recording
    from jobs.session import build_session
    from jobs.tombstones import user_id_hash_text

    if args.command == "nightly" and args.date is None:
        args.date = yesterday_utc()
        LOGGER.info("nightly: no --date given, so yesterday (UTC): %s", args.date)
    started = time.perf_counter()
    try:
        spark = build_session(config, app_name=f"chatlake-{args.command}", master=args.master)
        warehouse.prepare(spark, config)
    except Exception as error:
        return _failed(args, error)
    run = run_history.Run(
        args.command, command_line.text, _dates_of(args),
        user_id_hashes=[user_id_hash_text(config, i) for i in command_line.user_ids],
    )
    # A job that names users by a run-scoped id (delete-users: its erasure request) uses this one.
    args.run_id = run.run_id
    with recording() as steps:
        try:
            outcome = retrying_conflicts(lambda: job(spark, config, args))
        except Exception as error:
            run_history.record(spark, config, run, steps, error=scrub(_one_line(error)))
            return _failed(args, error)
    run_history.record(spark, config, run, steps, outcome=outcome)
    LOGGER.info("%s done in %.1fs", args.command, time.perf_counter() - started)
    logging.shutdown()
    return 0


def _failed(args: argparse.Namespace, error: BaseException) -> int:
    if args.verbose:
        print(scrub("".join(traceback.format_exception(error))), file=sys.stderr, end="")
    print(f"chatlake: {args.command} failed: {scrub(_one_line(error))}", file=sys.stderr)
    return EXIT_FAILURE


def _dates_of(args: argparse.Namespace) -> list[dt.date]:
    """The dates a run was for: --date, --as-of, every day from --from to --to, the days `generate`
    writes, or the week `demo` runs."""
    if args.command == "demo":
        from jobs.demo import window

        first, last = window(args.days)
        return _days(first, last)
    if getattr(args, "start", None) and getattr(args, "end", None):
        return _days(args.start, args.end)
    if args.command == "generate":
        return _days(args.start, args.start + dt.timedelta(days=args.days - 1))
    return [d for d in (getattr(args, "date", None), getattr(args, "as_of", None)) if d is not None]


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
