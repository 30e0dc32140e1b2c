"""The SQL endpoint end to end: `./spark-submit.sh serve` started once over a small warehouse,
then what each group of the contract's table reads and is refused, the row filters and masks,
the audit of allowed and denied queries (also across a crash of the audit receiver), and
`serve --stop` leaving no process behind.

The warehouse is the prepared empty one plus a few hand-made rows, so that every outcome is
known exactly: three users (a real one, a test account, one whose flag is unknown), their
daily metrics, and a message with client metadata.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from jobs import storage
from jobs.access_audit import access_report
from jobs.config import Config
from jobs.endpoint import Layout, bcrypt_line, connect
from tests.conftest import REPO, install_warehouse, make_config

pytestmark = pytest.mark.slow

SERVE_SECONDS = 600
# (principal, group); `outsider` logs in but belongs to no group.
ACCOUNTS = {"root": "admin", "erin": "engineer", "alice": "analyst", "sam": "support", "audrey": "auditor",
            "outsider": None}
USERS = {"u_real": 101, "u_test": 202, "u_unknown": 303}  # user_id -> user_key
IS_TEST = {"u_real": False, "u_test": True, "u_unknown": None}
DAY = dt.date(2026, 11, 1)
EVERY_TABLE = {
    "fact_message_events", "fact_message_derived_topics", "fact_conversation_metrics", "fact_user_metrics",
    "fact_experiment_daily", "dim_experiment_assignments", "fact_hourly_activity", "fact_activity_rollups",
    "dim_users", "dim_devices", "dim_conversations", "dim_conversation_types", "dim_conversation_participants",
    "dim_message_types", "dim_message_status", "dim_topics", "dim_dates", "dim_time", "quarantine",
    "message_status_events", "pending_message_status", "membership_events", "ingest_affected_dates",
    "ingested_events", "activity_daily_senders", "erasure_log", "pipeline_runs", "ops_minute_metrics",
    "ops_stream_batches", "ops_stream_events", "access_audit",
}
# The contract's group table, written out here rather than read from conf/access/policy.yaml.
MAY_READ = {
    "admin": EVERY_TABLE,
    "engineer": EVERY_TABLE - {"erasure_log", "access_audit"},
    "analyst": {
        "fact_conversation_metrics", "fact_hourly_activity", "fact_activity_rollups", "fact_experiment_daily",
        "ops_minute_metrics", "dim_dates", "dim_time", "dim_topics", "dim_message_types", "dim_message_status",
        "dim_conversation_types", "fact_user_metrics",
    },
    "support": {"dim_users", "fact_user_metrics"},
    "auditor": {"access_audit", "erasure_log", "pipeline_runs"},
    None: set(),
}
# Every query the tests make: query id -> (principal, outcome), checked against access_audit.
QUERIES: dict[str, tuple[str, str]] = {}
MASKED_QUERY: list[str] = []  # the id of an analyst's query of fact_user_metrics


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fill(spark: SparkSession, config: Config) -> None:
    users = [
        {"user_key": key, "user_id": user_id, "account_type": "free", "is_test_account": IS_TEST[user_id]}
        for user_id, key in USERS.items()
    ]
    storage.append(_frame(spark, "dim_users", users), config, "dim_users")
    metrics = [
        {"user_metric_id": key * 10 + day, "user_key": key, "date_key": 20261100 + day, "messages_sent": day,
         "conversations_participated": 1, "new_conversations_started": 0, "total_recipients": 1,
         "total_active_conversations": 1, "read_receipts_sent": 0, "messaging_pattern_json": "{}"}
        for key in USERS.values() for day in (1, 2)
    ]
    storage.append(_frame(spark, "fact_user_metrics", metrics), config, "fact_user_metrics")
    message = {
        "message_event_id": 1, "conversation_key": 1, "sender_user_key": USERS["u_real"], "message_type_key": 1,
        "date_key": 20261101, "time_key": 1200, "message_status_key": 1,
        "server_received_timestamp": dt.datetime(2026, 11, 1, 12), "message_size_bytes": 5, "character_count": 5,
        "media_count": 0, "message_sequence": 1, "is_reply": False, "metadata": '{"client": "x"}',
        "message_id": "m_1", "has_text": True, "source_event_id": "ev_1",
    }
    storage.append(_frame(spark, "fact_message_events", [message]), config, "fact_message_events")


def _frame(spark: SparkSession, name: str, rows: list[dict[str, Any]]) -> Any:
    spec = storage.spec_of(name)
    return spark.createDataFrame([Row(**{c: r.get(c) for c in spec.column_names}) for r in rows], spec.schema)


def _serve(config_file: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "spark-submit.sh"), "serve", "--conf", str(config_file), *options],
        cwd=REPO, capture_output=True, text=True, timeout=SERVE_SECONDS,
    )


@pytest.fixture(scope="module")
def endpoint(spark: SparkSession, warehouse_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    dict[str, Any]
]:
    root = tmp_path_factory.mktemp("access")
    root.chmod(0o700)
    access_dir = root / "access"
    access_dir.mkdir()
    port = _free_port()
    (access_dir / "users.txt").write_text("".join(bcrypt_line(u, f"{u}-pw") + "\n" for u in ACCOUNTS))
    (access_dir / "groups.txt").write_text("".join(f"{g}:{u}\n" for u, g in ACCOUNTS.items() if g))
    (access_dir / "scope.csv").write_text("principal,user_id\nsam,u_real\n")
    config = make_config(root, access={
        "port": port, "users_file": str(access_dir / "users.txt"), "groups_file": str(access_dir / "groups.txt"),
        "support_scope_file": str(access_dir / "scope.csv"),
    }, erasure={"hash_key": "access-test-key"})
    install_warehouse(warehouse_template, config)
    _fill(spark, config)
    config_file = root / "conf.yaml"
    config_file.write_text(json.dumps({
        "landing_path": config.landing_path, "warehouse_path": config.warehouse_path,
        "spark": {"shuffle_partitions": 2}, "erasure": {"hash_key": "access-test-key"},
        "access": {"port": port, "users_file": config.access.users_file, "groups_file": config.access.groups_file,
                   "support_scope_file": config.access.support_scope_file},
    }))
    warehouse = Path(config.warehouse_path)
    warehouse.chmod(0o755)
    refused = _serve(config_file)
    warehouse.chmod(0o750)
    started = time.monotonic()
    detached = _serve(config_file, "--detach")
    assert detached.returncode == 0, detached.stderr[-3000:]
    layout = Layout.of(config)
    state = {"config": config, "config_file": config_file, "layout": layout, "refused": refused,
             "start_seconds": time.monotonic() - started}
    try:
        yield state
    finally:
        if layout.processes.exists():
            _serve(config_file, "--stop")


def _cursor(endpoint: dict[str, Any], user: str) -> Any:
    config = endpoint["config"]
    return connect("127.0.0.1", config.access.port, user, f"{user}-pw", endpoint["layout"].certificate).cursor()


def rows_of(endpoint: dict[str, Any], user: str, sql: str) -> list[list[Any]]:
    cursor = _cursor(endpoint, user)
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    except Exception as error:
        raise AssertionError(f"{user} was refused {sql}: {error}") from None
    QUERIES[cursor.query_id] = (user, "succeeded")
    return rows


def refusal(endpoint: dict[str, Any], user: str, sql: str) -> str:
    """The error message of a query that must be refused for lack of access."""
    from trino.exceptions import TrinoUserError

    cursor = _cursor(endpoint, user)
    with pytest.raises(TrinoUserError) as caught:
        cursor.execute(sql)
        cursor.fetchall()
    assert caught.value.error_name == "PERMISSION_DENIED", caught.value
    QUERIES[caught.value.query_id] = (user, "denied")
    return caught.value.message


def _listening_addresses(port: int) -> set[str]:
    """The local addresses the kernel has a listening TCP socket on `port` for (IPv4 and IPv6)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                # /proc prints each 32-bit word in host (little-endian) order.
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                listening = ipaddress.ip_address(words)
                # Java listens through IPv6 sockets: 127.0.0.1 shows as ::ffff:127.0.0.1.
                mapped = getattr(listening, "ipv4_mapped", None)
                addresses.add(str(mapped or listening))
    return addresses


def test_the_endpoint_listens_on_its_host_alone(endpoint) -> None:
    """access.host is 127.0.0.1 by default: the HTTPS port is not open on other interfaces."""
    assert _listening_addresses(endpoint["config"].access.port) == {"127.0.0.1"}


def test_serve_refuses_a_warehouse_open_to_others_in_one_line(endpoint) -> None:
    refused = endpoint["refused"]
    # spark-submit passes the driver's stderr on to its stdout.
    output = refused.stdout + refused.stderr
    # The first serve of a fresh clone also says it fetches the server; the refusal comes first.
    lines = [line for line in output.splitlines() if line.startswith("chatlake: serve")]
    assert "fetching Trino" not in output
    warehouse = endpoint["config"].warehouse_path
    assert refused.returncode == 1
    assert lines == [f"chatlake: serve refused: the warehouse folder {warehouse} is open to other users "
                     f"(drwxr-xr-x); only its owner and the endpoint's group may read it: chmod o-rwx {warehouse}"]


@pytest.mark.parametrize("principal", list(ACCOUNTS))
def test_each_group_lists_and_reads_exactly_its_tables(endpoint, principal) -> None:
    group = ACCOUNTS[principal]
    expected = MAY_READ[group]
    if group is None:
        assert "Cannot show tables" in refusal(endpoint, principal, "SHOW TABLES FROM delta.chatlake")
        assert "Cannot select from table delta.chatlake.dim_dates" in refusal(
            endpoint, principal, "SELECT count(*) FROM delta.chatlake.dim_dates")
        return
    listed = {row[0] for row in rows_of(endpoint, principal, "SHOW TABLES FROM delta.chatlake")}
    assert listed == expected
    # One query reads every table the group may read; each table it may not is refused.
    union = " UNION ALL ".join(f"SELECT count(*) AS n FROM delta.chatlake.{t}" for t in sorted(expected))
    assert len(rows_of(endpoint, principal, union)) == len(expected)
    for table in sorted(EVERY_TABLE - expected):
        message = refusal(endpoint, principal, f"SELECT count(*) FROM delta.chatlake.{table}")
        assert f"Cannot select from table delta.chatlake.{table}" in message


@pytest.mark.parametrize(("principal", "allowed", "denied"), [
    ("alice", "fact_hourly_activity", "dim_users"),
    ("sam", "dim_users", "fact_message_events"),
    ("audrey", "pipeline_runs", "dim_users"),
    ("erin", "dim_users", "erasure_log"),
])
def test_a_denied_table_stays_denied_in_a_subquery_and_its_history(endpoint, principal, allowed, denied) -> None:
    message = refusal(endpoint, principal,
                      f"SELECT count(*) FROM {allowed} WHERE EXISTS (SELECT 1 FROM {denied})")
    assert f"Cannot select from table delta.chatlake.{denied}" in message
    assert f"delta.chatlake.{denied}$history" in refusal(endpoint, principal, f'SELECT * FROM "{denied}$history"')
    # History is not data, but it is not granted either: only admins read it.
    assert f"{allowed}$history" in refusal(endpoint, principal, f'SELECT * FROM "{allowed}$history"')


def test_a_view_over_a_denied_table_is_denied(endpoint) -> None:
    rows_of(endpoint, "root", "CREATE OR REPLACE VIEW delta.chatlake.user_ids AS SELECT user_id FROM dim_users")
    assert sorted(rows_of(endpoint, "root", "SELECT user_id FROM user_ids")) == [[u] for u in sorted(USERS)]
    assert rows_of(endpoint, "root", 'SELECT count(*) FROM "dim_users$history"')[0][0] >= 1
    for principal in ("erin", "alice", "sam", "audrey"):
        # Trino words a refused view as a table.
        assert "Cannot select from table delta.chatlake.user_ids" in refusal(
            endpoint, principal, "SELECT * FROM delta.chatlake.user_ids")


def test_analysts_see_real_users_under_a_stable_keyed_hash(endpoint) -> None:
    sql = "SELECT user_key, date_key, messages_sent FROM fact_user_metrics"
    first = sorted(rows_of(endpoint, "alice", sql))
    MASKED_QUERY.append(list(QUERIES)[-1])
    again = sorted(rows_of(endpoint, "alice", sql))
    assert first == again  # stable: per-user analyses work across queries
    # The test account's two rows are filtered out; the unknown flag counts as a real user.
    assert len(first) == 4
    masked = {row[0] for row in first}
    assert len(masked) == 2
    real_keys = {row[0] for row in rows_of(endpoint, "root", "SELECT user_key FROM dim_users")}
    assert real_keys == set(USERS.values())
    assert masked.isdisjoint(real_keys)
    # Each masked user has both days, so the mask is per user, not per row.
    per_user = {key: sorted(r[1] for r in first if r[0] == key) for key in masked}
    assert all(days == [20261101, 20261102] for days in per_user.values())


def test_engineers_read_metadata_as_null(endpoint) -> None:
    assert rows_of(endpoint, "erin", "SELECT message_id, metadata FROM fact_message_events") == [["m_1", None]]
    assert rows_of(endpoint, "root", "SELECT metadata FROM fact_message_events") == [['{"client": "x"}']]


def test_support_reads_its_scope_and_a_new_scope_without_restart(endpoint) -> None:
    assert rows_of(endpoint, "sam", "SELECT user_id FROM dim_users") == [["u_real"]]
    assert sorted(rows_of(endpoint, "sam", "SELECT user_key, date_key FROM fact_user_metrics")) == [
        [USERS["u_real"], 20261101], [USERS["u_real"], 20261102]]
    Path(endpoint["config"].access.support_scope_file).write_text("principal,user_id\nsam,u_test\nsam,u_unknown\n")
    deadline = time.monotonic() + 90
    seen: list[list[Any]] = []
    while time.monotonic() < deadline:
        seen = sorted(rows_of(endpoint, "sam", "SELECT user_id FROM dim_users"))
        if seen != [["u_real"]]:
            break
        time.sleep(2)
    assert seen == [["u_test"], ["u_unknown"]]


def test_a_new_table_is_registered_without_restart(endpoint, spark) -> None:
    config = endpoint["config"]
    path = Path(config.warehouse_path) / "fact_new_metric"
    spark.createDataFrame([(1,)], "n INT").write.format("delta").save(str(path))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ["fact_new_metric"] in rows_of(endpoint, "root", "SHOW TABLES FROM delta.chatlake"):
            break
        time.sleep(2)
    assert rows_of(endpoint, "root", "SELECT n FROM fact_new_metric") == [[1]]
    # Not in the policy, so nobody else reads it.
    assert "fact_new_metric" in refusal(endpoint, "erin", "SELECT n FROM fact_new_metric")


def test_a_receiver_crash_between_two_queries_loses_nothing(endpoint, spark) -> None:
    layout = endpoint["layout"]
    receiver = json.loads(layout.processes.read_text())["receiver"]
    before = _cursor(endpoint, "alice")
    before.execute("SELECT count(*) FROM dim_dates")
    before.fetchall()
    os.kill(receiver, signal.SIGKILL)
    during = _cursor(endpoint, "alice")
    during.execute("SELECT count(*) FROM dim_time")
    during.fetchall()
    after = refusal(endpoint, "alice", "SELECT count(*) FROM dim_devices")
    del after
    QUERIES.update({before.query_id: ("alice", "succeeded"), during.query_id: ("alice", "succeeded")})
    ids = {before.query_id, during.query_id}
    # The receiver is started again and the spool reaches the table within a minute or so.
    deadline = time.monotonic() + 120
    found: set[str] = set()
    while time.monotonic() < deadline and found != ids:
        time.sleep(5)
        found = {r.query_id for r in storage.read(spark, endpoint["config"], "access_audit")
                 .where(F.col("query_id").isin(*ids)).select("query_id").collect()}
    assert found == ids
    assert json.loads(layout.processes.read_text())["receiver"] != receiver


def _in_spool(layout: Layout, query_id: str) -> bool:
    return any(query_id in path.read_text(errors="replace") for path in layout.spool.glob("*") if path.is_file())


def test_an_endpoint_killed_and_started_again_loses_no_audit_record(endpoint, spark) -> None:
    """A query whose record waits in the spool when every endpoint process is SIGKILLed reaches
    access_audit after `serve --detach` starts it again (the contract's durable spool)."""
    layout, config = endpoint["layout"], endpoint["config"]
    waiting = None
    for _ in range(3):  # the loader empties the spool every 30 s: catch a record before it does
        cursor = _cursor(endpoint, "alice")
        cursor.execute("SELECT count(*) FROM dim_message_types")
        cursor.fetchall()
        QUERIES[cursor.query_id] = ("alice", "succeeded")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _in_spool(layout, cursor.query_id):
            time.sleep(0.5)
        if _in_spool(layout, cursor.query_id):
            waiting = cursor.query_id
            break
    assert waiting is not None, "no audit record was seen waiting in the spool"
    recorded = json.loads(layout.processes.read_text())
    # The manager, Trino and the receiver; the manager's parent too if it is serve's own JVM.
    killed = [recorded[key] for key in ("manager", "trino", "receiver") if recorded.get(key)]
    parent = recorded.get("parent")
    with contextlib.suppress(OSError):
        if parent and b"serve" in Path(f"/proc/{parent}/cmdline").read_bytes():
            killed.append(parent)
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    started = _serve(endpoint["config_file"], "--detach")
    assert started.returncode == 0, started.stderr[-3000:]
    assert set(_recorded_pids(layout).values()).isdisjoint(killed)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if storage.read(spark, config, "access_audit").where(F.col("query_id") == waiting).count():
            break
        time.sleep(5)
    assert storage.read(spark, config, "access_audit").where(F.col("query_id") == waiting).count() == 1


def _printed(notebook: Any) -> str:
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "stream")


@pytest.mark.parametrize("principal", ["alice", "audrey"])
def test_the_access_notebook_connects_and_shows_what_the_account_sees(endpoint, principal) -> None:
    import nbformat
    from nbclient import NotebookClient

    config = endpoint["config"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPARK_GATEWAY")}
    env.update({"CHATLAKE_ENDPOINT": f"127.0.0.1:{config.access.port}", "CHATLAKE_ENDPOINT_USER": principal,
                "CHATLAKE_ENDPOINT_PASSWORD": f"{principal}-pw",
                "CHATLAKE_ENDPOINT_CERT": str(endpoint["layout"].certificate)})
    notebook = nbformat.read(REPO / "notebooks" / "access.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO / "notebooks")}}).execute(env=env)
    assert [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"] == []
    printed = _printed(notebook)
    assert f"{principal} may read {len(MAY_READ[ACCOUNTS[principal]])} tables:" in printed
    assert "refused (PERMISSION_DENIED): Access Denied: Cannot select from table delta.chatlake.dim_users" in printed
    if principal == "alice":
        # Two days; two real users on each (the test account is filtered out).
        assert " date_key  users  messages\n 20261101      2         2\n 20261102      2         4\n" in printed
        assert "alice may not read access_audit (PERMISSION_DENIED)" in printed
    else:
        assert "audrey may not read fact_user_metrics (PERMISSION_DENIED)" in printed
        # The audit so far, denied attempts first (the earlier tests made some).
        audit = printed[printed.index("principal"):].splitlines()
        assert audit[1].split()[1] == "denied"


def _recorded_pids(layout: Layout) -> dict[str, int]:
    """serve.json's process ids (it also keeps their start times)."""
    return {key: pid for key, pid in json.loads(layout.processes.read_text()).items() if isinstance(pid, int)}


def test_stop_flushes_the_audit_and_leaves_no_process(endpoint, spark) -> None:
    layout, config = endpoint["layout"], endpoint["config"]
    pids = _recorded_pids(layout)
    assert set(pids) == {"manager", "parent", "trino", "receiver"}
    stopped = _serve(endpoint["config_file"], "--stop")
    assert stopped.returncode == 0, stopped.stderr
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2], name
    # Trino and the receiver name the state folder; serve's own script and JVM the config file.
    for trace in (layout.root, endpoint["config_file"]):
        leftovers = subprocess.run(["pgrep", "-f", str(trace)], capture_output=True, text=True).stdout.split()
        assert leftovers == [], trace
    audit = {r.query_id: r for r in storage.read(spark, config, "access_audit").collect()}
    assert {q: (audit[q].principal, audit[q].outcome) for q in QUERIES if q in audit} == QUERIES
    assert set(QUERIES) <= set(audit)
    # The endpoint's own queries (registration, the wait before stopping) are never refused.
    own = [r for r in audit.values() if r.principal == "chatlake-endpoint"]
    assert own and [r.query_text for r in own if r.outcome != "succeeded"] == []
    # A denied query names the table it was refused; an allowed one its filters and masks.
    denied = next(r for r in audit.values() if r.principal == "alice" and r.outcome == "denied"
                  and "dim_devices" in r.query_text)
    assert denied.tables == ["delta.chatlake.dim_devices"]
    assert "Cannot select from table delta.chatlake.dim_devices" in denied.error
    assert denied.groups == ["analyst"]
    masked = audit[MASKED_QUERY[0]]
    assert (masked.principal, masked.outcome) == ("alice", "succeeded")
    assert masked.tables == ["delta.chatlake.fact_user_metrics"]
    assert [m.split(":")[0] for m in masked.column_masks] == ["delta.chatlake.fact_user_metrics.user_key"]
    assert [f.split(":")[0] for f in masked.row_filters] == ["delta.chatlake.fact_user_metrics"]
    assert masked.client_address is not None and masked.finished_at >= masked.started_at
    # `report access --date D`: denied attempts first, then who read which tables how often.
    report = access_report(spark, config, masked.started_at.date()).collect()
    outcomes = [row.outcome for row in report]
    assert outcomes == sorted(outcomes, key=lambda outcome: (outcome != "denied", outcome))
    assert outcomes[0] == "denied"
    analysts = {(row.outcome, row.tables): row.queries for row in report if row.principal == "alice"}
    # The analyst's queries of fact_user_metrics alone: the two of the mask test and the notebook's.
    assert analysts[("succeeded", "delta.chatlake.fact_user_metrics")] == 3
    refusals = [r for r in audit.values() if (r.principal, r.outcome) == ("alice", "denied")]
    assert analysts[("denied", "delta.chatlake.dim_users")] == sum(
        1 for r in refusals if r.tables == ["delta.chatlake.dim_users"])
