"""`serve`: the SQL endpoint, a Trino server over the warehouse that enforces the access policy
and records every query (contract: operations.md "Access to the data"; docs/access.md).

`./spark-submit.sh serve` runs `run` below under spark-submit, like every job: its Spark session
is what moves the audit spool into the access_audit Delta table. `run` writes Trino's
configuration into `<warehouse>/_access/` (readable by the warehouse's owner alone, like the
tables), starts the audit receiver and Trino, registers every table, and then, every few
seconds until stopped: registers new tables (after `init`, or a table a new version adds),
rewrites the rules when the policy, groups or support scope changed, restarts the receiver if
it died, and loads the spool. `python -m jobs.endpoint wait|stop` serve `--detach` and `--stop`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.access_policy import (
    CATALOG,
    SCHEMA,
    build_rules,
    load_policy,
    mask_key,
    parse_groups,
    parse_support_scope,
)
from jobs.config import Config, ConfigError, load_config
from jobs.progress import LOGGER

STATE_DIR = "_access"
SERVICE_USER = "chatlake-endpoint"
TRINO_HOME_ENV, TRINO_JAVA_ENV = "CHATLAKE_TRINO_HOME", "CHATLAKE_TRINO_JAVA"
HEAP = os.environ.get("CHATLAKE_TRINO_HEAP", "2G")
# How often the loop registers tables and checks files; how often it loads the audit spool
# (the contract: rows reach access_audit within a minute).
TICK_SECONDS = 5
AUDIT_LOAD_SECONDS = 30
STARTUP_TIMEOUT_SECONDS = 240
STOP_TIMEOUT_SECONDS = 180
# After the last query finished, Trino may still be sending its completed event.
QUIET_BEFORE_STOP_SECONDS = 3
# Trino retries an event the receiver did not take: 1 s, then doubling up to 10 s, for ~5 minutes.
EVENT_RETRIES = 40
# Folder mode bits that let other users (not the owner, not the endpoint's group) in.
OTHERS = stat.S_IRWXO


class AccessSetupError(RuntimeError):
    """The endpoint cannot start safely; the message is one line saying what to fix."""


@dataclass(frozen=True)
class Layout:
    """Where `serve` keeps its state: inside the warehouse, which only its owner may read."""

    root: Path

    @classmethod
    def of(cls, config: Config) -> Layout:
        return cls(Path(config.warehouse_path) / STATE_DIR)

    etc = property(lambda self: self.root / "etc")
    data = property(lambda self: self.root / "data")
    spool = property(lambda self: self.root / "audit-spool")
    tls = property(lambda self: self.root / "tls")
    certificate = property(lambda self: self.root / "tls" / "cert.pem")
    key_and_certificate = property(lambda self: self.root / "tls" / "endpoint.pem")
    rules = property(lambda self: self.root / "etc" / "rules.json")
    processes = property(lambda self: self.root / "serve.json")
    ready = property(lambda self: self.root / "ready")
    # `launcher run` writes Trino's log to its stdout, which the manager sends here.
    log = property(lambda self: self.root / "launcher.log")


def check_files(config: Config) -> None:
    """Refuse (one line) unless the warehouse and landing folders keep other users out and the
    account files exist."""
    warehouse = Path(config.warehouse_path)
    if "://" in config.warehouse_path:
        raise AccessSetupError(f"serve needs a local warehouse folder, not {config.warehouse_path}")
    if not warehouse.is_dir():
        raise AccessSetupError(f"the warehouse folder {warehouse} does not exist (run ./spark-submit.sh init first)")
    for what, folder in (("warehouse", warehouse), ("landing", Path(config.landing_path))):
        if folder.exists() and folder.stat().st_mode & OTHERS:
            mode = stat.filemode(folder.stat().st_mode)
            raise AccessSetupError(
                f"the {what} folder {folder} is open to other users ({mode}); only its owner and the "
                f"endpoint's group may read it: chmod o-rwx {folder}"
            )
    for key in ("users_file", "groups_file"):
        path = Path(getattr(config.access, key))
        if not path.is_file():
            raise AccessSetupError(f"access.{key} {path} does not exist (docs/access.md says how to make it)")
    _check_accounts(Path(config.access.users_file))


# Trino reads bcrypt only as $2y$ (cost 8 or more), and one line it cannot read makes it refuse
# every login, the endpoint's own included.
ACCOUNT_LINE = re.compile(r"[^:\s]+:\$2y\$(0[89]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")


def _check_accounts(users_file: Path) -> None:
    for number, line in enumerate(users_file.read_text(errors="replace").splitlines(), start=1):
        if line.strip() and not ACCOUNT_LINE.fullmatch(line.strip()):
            raise AccessSetupError(
                f"access.users_file {users_file} line {number} is not `name:$2y$..` (a bcrypt hash of cost 8 "
                "or more, written $2y$ as `htpasswd -B` writes it; no comments): docs/access.md says how"
            )


def _ours(pid: int | None, layout: Layout) -> bool:
    """Whether `pid` is alive and one of this warehouse's endpoint processes (its command line
    names the state folder): a recorded pid may have been reused since."""
    if not _alive(pid):
        return False
    try:
        return str(layout.root) in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False


def _stat_after_name(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (which may hold spaces): state first
    (field 3), None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as status:
            return status.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _start_ticks(pid: int | None) -> int | None:
    """When `pid` started (clock ticks since boot, field 22): with the pid it names one process,
    never a later one that reused the number."""
    fields = _stat_after_name(pid) if pid else None
    return int(fields[19]) if fields and len(fields) > 19 else None


def _recorded_alive(processes: dict[str, Any], key: str) -> int | None:
    """The pid recorded under `key` if that very process still runs (same start time), else None."""
    pid = processes.get(key)
    started = processes.get("started", {}).get(key)
    if not isinstance(pid, int) or not _alive(pid) or (started is not None and _start_ticks(pid) != started):
        return None
    return pid


def clear_leftovers(config: Config) -> None:
    """Refuse when an endpoint already serves this warehouse; end the server and receiver that
    a killed one left behind (they hold the ports)."""
    layout = Layout.of(config)
    if not layout.processes.exists():
        return
    processes = json.loads(layout.processes.read_text())
    manager = _recorded_alive(processes, "manager")
    if manager is not None and manager != os.getpid():
        raise AccessSetupError(f"an endpoint already serves {config.warehouse_path} (process {manager}); "
                               "./spark-submit.sh serve --stop stops it")
    for key in ("trino", "receiver"):
        pid = processes.get(key)
        if _ours(pid, layout):
            LOGGER.warning("serve: ending the %s (process %s) a killed endpoint left behind", key, pid)
            os.kill(pid, signal.SIGKILL)
    layout.processes.unlink(missing_ok=True)


def bcrypt_line(user: str, password: str) -> str:
    """A `name:hash` line as Trino's password file wants it: bcrypt written $2y$."""
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
    return f"{user}:$2y${hashed[4:]}"


def _free_port() -> int:
    import socket

    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write_private(path: Path, text: str) -> None:
    """Write `text` readable by the owner alone, replacing the file in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)


def _properties(values: dict[str, Any]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def certificate_names(host: str) -> list[str]:
    """The names the certificate must carry for clients to reach `host` by them."""
    names = ["DNS:localhost", "IP:127.0.0.1"]
    if host == "0.0.0.0":
        # Every interface: clients come by the machine's name.
        names.append(f"DNS:{socket.getfqdn()}")
    elif host not in ("localhost", "127.0.0.1"):
        names.append(f"IP:{host}" if host.replace(".", "").isdigit() else f"DNS:{host}")
    return names


def ensure_certificate(layout: Layout, host: str) -> None:
    """A self-signed certificate for the endpoint, made once and kept (clients trust this one),
    made again only when `access.host` changed the names it must carry."""
    names = certificate_names(host)
    names_file = layout.tls / "names"
    if layout.key_and_certificate.exists():
        if names_file.exists() and names_file.read_text().split() == names:
            return
        LOGGER.warning("serve: access.host changed; a new certificate (%s): clients need the new %s",
                       ", ".join(names), layout.certificate)
    layout.tls.mkdir(parents=True, exist_ok=True)
    key = layout.tls / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=chatlake",
         "-addext", f"subjectAltName={','.join(names)}", "-keyout", str(key), "-out", str(layout.certificate)],
        check=True, capture_output=True,
    )
    _write_private(layout.key_and_certificate, key.read_text() + layout.certificate.read_text())
    key.unlink()
    names_file.write_text("\n".join(names) + "\n")


def rules_document(config: Config) -> dict[str, Any]:
    access = config.access
    scope_path = Path(access.support_scope_file)
    scope = parse_support_scope(scope_path.read_text(encoding="utf-8")) if scope_path.is_file() else {}
    parse_groups(Path(access.groups_file).read_text(encoding="utf-8"))  # fails early on a bad line
    policy = load_policy(Path(access.policy_file).read_text(encoding="utf-8"))
    return build_rules(policy, SERVICE_USER, mask_key(config.erasure_hash_key), scope)


def write_configuration(config: Config, layout: Layout, http_port: int, receiver_port: int, password: str) -> None:
    access = config.access
    etc = layout.etc
    (etc / "catalog").mkdir(parents=True, exist_ok=True)
    # Trino listens on access.host alone (127.0.0.1 unless the config says otherwise), not on
    # every interface; the node talks to itself on the same address.
    bind_ip = socket.gethostbyname(access.host)
    own_address = "127.0.0.1" if bind_ip in ("0.0.0.0", "127.0.0.1") else bind_ip
    _write_private(etc / "node.properties", _properties({
        "node.environment": "chatlake",
        "node.id": "chatlake-endpoint",
        "node.data-dir": layout.data,
        "node.bind-ip": bind_ip,
        "node.internal-address": own_address,
    }))
    _write_private(etc / "jvm.config", "\n".join([
        "-server", f"-Xmx{HEAP}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:ReservedCodeCacheSize=256M", "-Djdk.attach.allowAttachSelf=true", "-Dfile.encoding=UTF-8",
        "-XX:+EnableDynamicAgentLoading", "",
    ]))
    _write_private(etc / "config.properties", _properties({
        "coordinator": "true",
        "node-scheduler.include-coordinator": "true",
        # Plain HTTP serves only the node's own traffic (a login over it is refused).
        "http-server.http.port": http_port,
        "discovery.uri": f"http://{own_address}:{http_port}",
        "http-server.https.enabled": "true",
        "http-server.https.port": access.port,
        "http-server.https.keystore.path": layout.key_and_certificate,
        "http-server.authentication.type": "PASSWORD",
        "password-authenticator.config-files": f"{etc / 'users.properties'},{etc / 'service.properties'}",
        "internal-communication.shared-secret": secrets.token_urlsafe(32),
        "query.max-memory": "1GB",
        "query.max-memory-per-node": "1GB",
        "event-listener.config-files": etc / "event-listener.properties",
    }))
    _write_private(etc / "users.properties", _properties({
        "password-authenticator.name": "file", "file.password-file": access.users_file, "file.refresh-period": "5s",
    }))
    _write_private(layout.root / "service-password.txt", bcrypt_line(SERVICE_USER, password) + "\n")
    _write_private(etc / "service.properties", _properties({
        "password-authenticator.name": "file", "file.password-file": layout.root / "service-password.txt",
    }))
    _write_private(etc / "group-provider.properties", _properties({
        "group-provider.name": "file", "file.group-file": access.groups_file, "file.refresh-period": "5s",
    }))
    _write_private(etc / "access-control.properties", _properties({
        "access-control.name": "file", "security.config-file": layout.rules, "security.refresh-period": "5s",
    }))
    _write_private(layout.rules, json.dumps(rules_document(config), indent=1))
    _write_private(etc / "event-listener.properties", _properties({
        "event-listener.name": "http",
        "http-event-listener.log-completed": "true",
        "http-event-listener.connect-ingest-uri": f"http://127.0.0.1:{receiver_port}/events",
        "http-event-listener.connect-retry-count": EVENT_RETRIES,
        "http-event-listener.connect-retry-delay": "1s",
        "http-event-listener.connect-backoff-base": "2",
        "http-event-listener.connect-max-delay": "10s",
    }))
    _write_private(etc / "catalog" / f"{CATALOG}.properties", _properties({
        "connector.name": "delta_lake",
        "hive.metastore": "file",
        "hive.metastore.catalog.dir": f"local:///{STATE_DIR}/metastore",
        "fs.native-local.enabled": "true",
        "local.location": config.warehouse_path,
        "delta.register-table-procedure.enabled": "true",
        "hive.metastore.disable-location-checks": "true",
    }))


def connect(host: str, port: int, user: str, password: str, certificate: Path) -> Any:
    """A DB-API connection to the endpoint that trusts its certificate. A session that ignores
    the environment: REQUESTS_CA_BUNDLE would otherwise replace the certificate."""
    import requests
    import trino

    session = requests.Session()
    session.trust_env = False
    session.verify = str(certificate)
    return trino.dbapi.connect(
        host=host, port=port, user=user, http_scheme="https", catalog=CATALOG, schema=SCHEMA,
        auth=trino.auth.BasicAuthentication(user, password), http_session=session,
    )


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) is gone for our purposes.
    fields = _stat_after_name(pid)
    return fields is not None and fields[0] != "Z"


class Endpoint:
    def __init__(self, config: Config, layout: Layout) -> None:
        self.config = config
        self.layout = layout
        self.password = secrets.token_urlsafe(24)
        self.receiver_port = _free_port()
        self.trino: subprocess.Popen[bytes] | None = None
        self.receiver: subprocess.Popen[bytes] | None = None
        self.inputs_seen: dict[str, float] = {}
        self.folders_seen: set[str] | None = None

    def start(self) -> None:
        home, java = os.environ.get(TRINO_HOME_ENV), os.environ.get(TRINO_JAVA_ENV)
        if not home or not java:
            raise AccessSetupError("serve runs through ./spark-submit.sh serve (it fetches Trino and its Java)")
        self.layout.root.mkdir(mode=0o700, exist_ok=True)
        self.layout.spool.mkdir(mode=0o700, exist_ok=True)
        ensure_certificate(self.layout, self.config.access.host)
        write_configuration(self.config, self.layout, _free_port(), self.receiver_port, self.password)
        self.inputs_seen = self._input_times()
        self._start_receiver()
        environment = {**os.environ, "JAVA_HOME": java, "PATH": f"{java}/bin:{os.environ.get('PATH', '')}"}
        self.layout.data.mkdir(exist_ok=True)
        with open(self.layout.log, "ab") as output:
            self.trino = subprocess.Popen(
                [f"{home}/bin/launcher", "run", f"--etc-dir={self.layout.etc}", f"--data-dir={self.layout.data}"],
                env=environment, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._record_processes()

    def _start_receiver(self) -> None:
        self.receiver = subprocess.Popen(
            [sys.executable, "-m", "jobs.audit_receiver", "--spool", str(self.layout.spool),
             "--port", str(self.receiver_port)],
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self._record_processes()

    def _record_processes(self) -> None:
        pids = {
            "manager": os.getpid(), "parent": os.getppid(),
            "trino": self.trino.pid if self.trino else None,
            "receiver": self.receiver.pid if self.receiver else None,
        }
        started = {key: _start_ticks(pid) for key, pid in pids.items()}
        _write_private(self.layout.processes, json.dumps({**pids, "started": started}))

    def _input_times(self) -> dict[str, float]:
        access = self.config.access
        paths = (access.policy_file, access.groups_file, access.support_scope_file)
        return {p: Path(p).stat().st_mtime if Path(p).exists() else 0.0 for p in paths}

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        connection = connect("127.0.0.1" if self.config.access.host == "0.0.0.0" else self.config.access.host,
                             self.config.access.port, SERVICE_USER, self.password, self.layout.certificate)
        with closing(connection):
            yield connection.cursor()

    def query(self, sql: str) -> list[Any]:
        with self.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    def wait_until_up(self, stopping: threading.Event) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not stopping.is_set():
            if self.trino is None or self.trino.poll() is not None:
                raise RuntimeError(f"the Trino server exited while starting; see {self.layout.log}")
            try:
                self.query("SELECT 1")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the Trino server did not answer in {STARTUP_TIMEOUT_SECONDS} s") from None
                time.sleep(1)

    def table_folders(self) -> set[str]:
        """Table folders whose log holds a commit: Spark makes `_delta_log` before its first
        commit, and registering it in between fails."""
        warehouse = Path(self.config.warehouse_path)
        return {
            path.parent.name for path in warehouse.glob("*/_delta_log")
            if not path.parent.name.startswith(("_", ".")) and path.parent.name.isidentifier()
            and next(path.glob("*.json"), None) is not None
        }

    def sync_tables(self) -> None:
        """Register every table folder of the warehouse that is not registered yet; unregister
        those whose folder is gone. Asks the server only when the folders changed: each of its
        queries is an audit row, and the loop runs every few seconds."""
        present = self.table_folders()
        if present == self.folders_seen:
            return
        self.query(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{SCHEMA}")
        registered = {row[0] for row in self.query(
            f"SELECT table_name FROM {CATALOG}.information_schema.tables "
            f"WHERE table_schema = '{SCHEMA}' AND table_type = 'BASE TABLE'"
        )}
        for name in sorted(present - registered):
            self.query(f"CALL {CATALOG}.system.register_table(schema_name => '{SCHEMA}', "
                       f"table_name => '{name}', table_location => 'local:///{name}')")
            LOGGER.info("serve: registered %s.%s.%s", CATALOG, SCHEMA, name)
        for name in sorted(registered - present):
            self.query(f"CALL {CATALOG}.system.unregister_table(schema_name => '{SCHEMA}', table_name => '{name}')")
            LOGGER.info("serve: unregistered %s.%s.%s (its folder is gone)", CATALOG, SCHEMA, name)
        self.folders_seen = present

    def refresh_rules(self) -> None:
        seen = self._input_times()
        if seen != self.inputs_seen:
            try:
                _write_private(self.layout.rules, json.dumps(rules_document(self.config), indent=1))
                LOGGER.info("serve: access rules rewritten")
            except Exception as error:
                # The previous rules stay in force; the change waits for a fixed file.
                LOGGER.error("serve: kept the previous access rules: %s", error)
            self.inputs_seen = seen

    def keep_receiver(self) -> None:
        if self.receiver is not None and self.receiver.poll() is not None:
            LOGGER.warning("serve: the audit receiver exited (%s); starting it again", self.receiver.returncode)
            self._start_receiver()

    def wait_idle(self) -> None:
        """Until no query but this one runs, then a moment for the last completed events."""
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS / 2
        while time.monotonic() < deadline:
            try:
                running = self.query(
                    "SELECT count(*) FROM system.runtime.queries WHERE state NOT IN ('FINISHED', 'FAILED')"
                )[0][0]
            except Exception:
                break
            if running <= 1:
                break
            time.sleep(1)
        time.sleep(QUIET_BEFORE_STOP_SECONDS)

    def stop(self) -> None:
        # Trino first, the receiver once Trino is gone: Trino sends its last query events while
        # it shuts down.
        for process in (self.trino, self.receiver):
            if process is None:
                continue
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS / 3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


AUDIT_LOAD = threading.Lock()


def _load_audit_until(spark: Any, config: Config, layout: Layout, stopping: threading.Event) -> None:
    """Load the spool at once (what a killed endpoint left, the start-up's own queries), then
    every AUDIT_LOAD_SECONDS until stopping. A failed load leaves the spool for the next."""
    from jobs.access_audit import load_spool

    while True:
        try:
            with AUDIT_LOAD:
                LOGGER.info("serve: %d audit rows loaded", load_spool(spark, config, layout.spool))
        except Exception as error:
            LOGGER.error("serve: loading the audit spool failed, trying again: %s", error)
        if stopping.wait(AUDIT_LOAD_SECONDS):
            return


def run(spark: Any, config: Config, args: Any) -> None:
    """`serve`: until SIGTERM or SIGINT (what `serve --stop` sends)."""
    from jobs.access_audit import load_spool

    del args
    layout = Layout.of(config)
    check_files(config)
    clear_leftovers(config)
    stopping = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopping.set())
    layout.ready.unlink(missing_ok=True)
    endpoint = Endpoint(config, layout)
    try:
        endpoint.start()
        endpoint.wait_until_up(stopping)
        if not stopping.is_set():
            endpoint.sync_tables()
            layout.ready.write_text(str(os.getpid()))
            LOGGER.info("serve: ready on https://%s:%d (certificate %s)", config.access.host, config.access.port,
                        layout.certificate)
        # The audit is loaded in a thread of its own: a load is a Spark job of many seconds, and the
        # loop must keep picking up scope changes, new tables and a dead receiver meanwhile.
        loader = threading.Thread(target=_load_audit_until, args=(spark, config, layout, stopping),
                                  name="audit-loader", daemon=True)
        loader.start()
        while not stopping.wait(TICK_SECONDS):
            endpoint.keep_receiver()
            endpoint.refresh_rules()
            try:
                endpoint.sync_tables()
            except Exception as error:
                LOGGER.warning("serve: table registration failed, trying again: %s", error)
        loader.join()
        LOGGER.info("serve: stopping")
        endpoint.wait_idle()
    finally:
        layout.ready.unlink(missing_ok=True)
        endpoint.stop()
        layout.processes.unlink(missing_ok=True)
        try:
            with AUDIT_LOAD:
                added = load_spool(spark, config, layout.spool)
            LOGGER.info("serve: stopped; %d audit rows loaded on the way out", added)
        except Exception:
            # Not raised: it would hide why serve stopped. The spool stays and the next start loads it.
            LOGGER.exception("serve: stopped; the audit spool stays for the next start to load")


# `python -m jobs.endpoint check|wait|stop`: the parts of `serve`, `serve --detach` and
# `serve --stop` that need no Spark.

def _load(conf: str) -> Config:
    try:
        return load_config(conf)
    except ConfigError as error:
        from jobs.cli import EXIT_USAGE

        print(f"chatlake: {error}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _ready_since(layout: Layout, since: float) -> bool:
    try:
        return layout.ready.stat().st_mtime >= since
    except FileNotFoundError:
        return False


def wait(config: Config, pid: int, log: Path) -> int:
    layout = Layout.of(config)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS + 120
    # A killed endpoint leaves its ready marker behind: only one written after this start counts.
    started = time.time()
    while time.monotonic() < deadline:
        if _ready_since(layout, started) and _alive(pid):
            print(f"chatlake: serve: running in the background on https://{config.access.host}:"
                  f"{config.access.port}; certificate {layout.certificate}; log {log}", file=sys.stderr)
            return 0
        if not _alive(pid):
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            reason = next((line for line in reversed(lines) if line.startswith("chatlake:")), f"see {log}")
            print(reason if reason.startswith("chatlake:") else f"chatlake: serve did not start; {reason}",
                  file=sys.stderr)
            return 1
        time.sleep(1)
    print(f"chatlake: serve did not become ready in time; see {log}", file=sys.stderr)
    return 1


def stop(config: Config) -> int:
    layout = Layout.of(config)
    if not layout.processes.exists():
        print(f"chatlake: serve: no endpoint is running for {config.warehouse_path}", file=sys.stderr)
        return 0
    processes = json.loads(layout.processes.read_text())
    manager = _recorded_alive(processes, "manager")
    if manager is not None:
        os.kill(manager, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while any(_recorded_alive(processes, k) for k in ("manager", "parent")) and time.monotonic() < deadline:
        time.sleep(0.5)
    # A manager that was killed (or does not answer) leaves its children: they go too.
    for key in ("trino", "receiver"):
        pid = processes.get(key)
        if _ours(pid, layout):
            os.kill(pid, signal.SIGKILL)
    for key in ("manager", "parent"):
        pid = _recorded_alive(processes, key)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
    layout.processes.unlink(missing_ok=True)
    print("chatlake: serve: stopped", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.endpoint")
    parser.add_argument("action", choices=("check", "wait", "stop"))
    parser.add_argument("--conf", default="conf/local.yaml")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--log", type=Path)
    args, _ = parser.parse_known_args()
    config = _load(args.conf)
    if args.action == "check":
        # Before the server is fetched (hundreds of MB the first time) or Spark starts.
        try:
            check_files(config)
        except AccessSetupError as error:
            print(f"chatlake: serve refused: {error}", file=sys.stderr)
            return 1
        return 0
    if args.action == "wait":
        return wait(config, args.pid, args.log)
    return stop(config)


if __name__ == "__main__":
    sys.exit(main())
