"""The audit spool's receiver: Trino's HTTP event listener posts one JSON document per finished
query here, and the document is on disk (appended, fsync'ed) before the answer says so.

    python -m jobs.audit_receiver --spool DIR --port P

Runs as its own process beside the endpoint, which restarts it if it dies; Trino retries a post
that got no answer, so an event sent while it was down arrives once it is back. `serve` moves the
spool into the access_audit table (jobs/access_audit.py); a lock makes that move and an append
exclude each other, so no event is written into a file already being loaded.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

INCOMING = "incoming.jsonl"
LOCK = ".lock"
HTTP_OK, HTTP_BAD_REQUEST, HTTP_UNAVAILABLE = 200, 400, 503


@contextmanager
def spool_lock(spool: Path) -> Iterator[None]:
    descriptor = os.open(spool / LOCK, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_event(spool: Path, document: object) -> None:
    """One line per event; on disk (file and directory entry) when this returns."""
    line = (json.dumps(document, separators=(",", ":")) + "\n").encode()
    path = spool / INCOMING
    with spool_lock(spool):
        created = not path.exists()
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        size_before = os.fstat(descriptor).st_size
        try:
            written = 0
            while written < len(line):
                written += os.write(descriptor, line[written:])
            os.fsync(descriptor)
        except OSError:
            # A part line (a full disk) would swallow the next event too: cut it off, and let
            # the sender see the failure and send again.
            os.ftruncate(descriptor, size_before)
            raise
        finally:
            os.close(descriptor)
        if created:
            directory = os.open(spool, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)


def make_handler(spool: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                document = json.loads(self.rfile.read(length))
            except ValueError:
                self.send_response(HTTP_BAD_REQUEST)
                self.end_headers()
                return
            try:
                append_event(spool, document)
            except OSError as error:
                # log_message is quiet on purpose; a failure must still show in the endpoint's log.
                print(f"chatlake: audit receiver: event not spooled, sender told to retry: {error}",
                      file=sys.stderr, flush=True)
                self.send_response(HTTP_UNAVAILABLE)
                self.end_headers()
                return
            self.send_response(HTTP_OK)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the events are the record, not an access log of them."""

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spool", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args()
    args.spool.mkdir(parents=True, exist_ok=True)
    HTTPServer.allow_reuse_address = True
    server = HTTPServer(("127.0.0.1", args.port), make_handler(args.spool))
    server.serve_forever()


if __name__ == "__main__":
    main()
