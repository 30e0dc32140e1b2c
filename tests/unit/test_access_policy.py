"""The access policy (conf/access/policy.yaml) and the Trino rules made from it, checked against
the contract's group table; the audit's event parsing. Pure Python: no server."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from jobs.access_audit import event_row, spooled_rows
from jobs.access_policy import (
    PolicyError,
    build_rules,
    load_policy,
    mask_key,
    parse_groups,
    parse_policy,
    parse_support_scope,
)
from schemas.tables import TABLES_BY_NAME
from tests.conftest import REPO

SERVICE = "chatlake-endpoint"
KEY = mask_key("secret")
POLICY = load_policy((REPO / "conf" / "access" / "policy.yaml").read_text(encoding="utf-8"))
ANALYST_TABLES = {
    "fact_conversation_metrics", "fact_hourly_activity", "fact_activity_rollups", "fact_experiment_daily",
    "ops_minute_metrics", "dim_dates", "dim_time", "dim_topics", "dim_message_types", "dim_message_status",
    "dim_conversation_types", "fact_user_metrics",
}


def decide(rules: dict, user: str, groups: set[str], table: str) -> dict | None:
    """What Trino's file access control does for a SELECT: the first table rule whose user,
    group, catalog, schema and table patterns all match decides (full-string Java regexes,
    which for these patterns mean what Python's re.fullmatch does)."""
    for rule in rules["tables"]:
        if "user" in rule and not re.fullmatch(rule["user"], user):
            continue
        if "group" in rule and not any(re.fullmatch(rule["group"], g) for g in groups):
            continue
        if not re.fullmatch(rule.get("catalog", ".*"), "delta"):
            continue
        if not re.fullmatch(rule.get("schema", ".*"), "chatlake"):
            continue
        if not re.fullmatch(rule.get("table", ".*"), table):
            continue
        return rule if "SELECT" in rule["privileges"] else None
    return None


def readable(rules: dict, user: str, groups: set[str], tables=TABLES_BY_NAME) -> set[str]:
    return {t for t in tables if decide(rules, user, groups, t) is not None}


@pytest.fixture(scope="module")
def rules() -> dict:
    return build_rules(POLICY, SERVICE, KEY, {"sam": ["u_1", "u_'2"]})


def test_the_group_table_of_the_contract_holds_exactly(rules) -> None:
    every = set(TABLES_BY_NAME)
    assert readable(rules, "root", {"admin"}) == every
    assert readable(rules, "erin", {"engineer"}) == every - {"erasure_log", "access_audit"}
    assert readable(rules, "alice", {"analyst"}) == ANALYST_TABLES
    assert readable(rules, "sam", {"support"}) == {"dim_users", "fact_user_metrics"}
    assert readable(rules, "audrey", {"auditor"}) == {"access_audit", "erasure_log", "pipeline_runs"}
    assert readable(rules, "nobody", set()) == set()


def test_history_tables_and_views_are_denied_to_all_but_admins(rules) -> None:
    for user, group in (("erin", "engineer"), ("alice", "analyst"), ("sam", "support"), ("audrey", "auditor")):
        assert decide(rules, user, {group}, "fact_user_metrics$history") is None
        assert decide(rules, user, {group}, "some_view") is None
    assert decide(rules, "root", {"admin"}, "fact_user_metrics$history") is not None


def test_analysts_see_real_users_only_under_a_keyed_hash(rules) -> None:
    rule = decide(rules, "alice", {"analyst"}, "fact_user_metrics")
    assert rule["filter"] == "user_key NOT IN (SELECT user_key FROM delta.chatlake.dim_users WHERE is_test_account)"
    assert rule["filter_environment"] == {"user": SERVICE}
    assert rule["columns"] == [{
        "name": "user_key",
        "mask": f"from_big_endian_64(substr(hmac_sha256(to_big_endian_64(user_key), from_hex('{KEY}')), 1, 8))",
    }]
    assert "filter" not in decide(rules, "alice", {"analyst"}, "fact_hourly_activity")


def test_support_reads_only_the_rows_its_scope_lists(rules) -> None:
    assert decide(rules, "sam", {"support"}, "dim_users")["filter"] == "user_id IN ('u_1', 'u_''2')"
    assert decide(rules, "sam", {"support"}, "fact_user_metrics")["filter"] == (
        "user_key IN (SELECT user_key FROM delta.chatlake.dim_users WHERE user_id IN ('u_1', 'u_''2'))"
    )
    # A support member the scope does not list sees no row, and a scoped name is not a prefix.
    assert decide(rules, "sue", {"support"}, "dim_users")["filter"] == "false"
    assert decide(rules, "samuel", {"support"}, "dim_users")["filter"] == "false"
    # The scope is for support members only.
    assert decide(rules, "sam", {"auditor"}, "dim_users") is None


def test_engineers_read_metadata_as_null(rules) -> None:
    rule = decide(rules, "erin", {"engineer"}, "fact_message_events")
    assert rule["columns"] == [{"name": "metadata", "mask": "CAST(NULL AS varchar)"}]
    # Both metadata columns (the contract's "metadata columns"): the message's and the conversation's.
    conversations = decide(rules, "erin", {"engineer"}, "dim_conversations")
    assert conversations["columns"] == [{"name": "conversation_metadata", "mask": "CAST(NULL AS varchar)"}]
    assert "columns" not in decide(rules, "erin", {"engineer"}, "dim_users")


def test_only_the_endpoint_and_admins_own_or_write(rules) -> None:
    assert rules["catalogs"][-1] == {"catalog": "delta|system", "allow": "read-only"}
    assert [r for r in rules["schemas"] if r.get("owner")] == [{"user": SERVICE, "owner": True},
                                                                {"group": "admin", "owner": True}]
    # Admins own (may create and drop) views and other names, never a pipeline table.
    for table in TABLES_BY_NAME:
        assert decide(rules, "root", {"admin"}, table)["privileges"] == ["SELECT", "GRANT_SELECT"]
    assert "OWNERSHIP" in decide(rules, "root", {"admin"}, "a_view")["privileges"]
    writers = [r for r in rules["tables"] if set(r["privileges"]) - {"SELECT", "GRANT_SELECT", "OWNERSHIP"}]
    assert [(r.get("user"), r.get("group")) for r in writers] == [(SERVICE, None)]
    granters = [r for r in rules["tables"] if "GRANT_SELECT" in r["privileges"]]
    assert [(r.get("user"), r.get("group")) for r in granters] == [(SERVICE, None), (None, "admin"), (None, "admin")]
    assert rules["queries"][-1] == {"allow": ["execute"]}
    assert {"user": SERVICE, "catalog": "system", "privileges": ["SELECT"]} in rules["tables"]


def test_the_mask_key_is_derived_and_secret_dependent() -> None:
    assert mask_key("secret") == mask_key("secret") != mask_key("other")
    assert re.fullmatch(r"[0-9a-f]{64}", KEY)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"groups": {"x": {"tables": ["no_such_table"]}}}, "'no_such_table', which is not a chatlake table"),
        ({"groups": {"x": {"tables": ["dim_users"], "except": ["dim_users"]}}}, "'except' goes with 'tables: all'"),
        ({"groups": {"x": {"tables": ["dim_dates"], "rows": {"dim_users": "support_scope"}}}},
         "rows of 'dim_users', which it may not read"),
        ({"groups": {"x": {"tables": ["dim_users"], "rows": {"dim_users": "everything"}}}}, "rows 'everything'"),
        ({"groups": {"x": {"tables": ["dim_users"], "masks": {"dim_users": {"nope": "null"}}}}},
         "'dim_users' has no column 'nope'"),
        ({"groups": {"x": {"tables": "some"}}}, "'tables' must be 'all' or a list"),
        ({"groups": {"x": {"tables": "all", "grant": 1}}}, "key 'grant' is not known"),
        ({"users": {}}, "one key, 'groups'"),
        ({"groups": {"x": {"tables": ["dim_users"], "rows": ["dim_users"]}}}, "'rows' must be a mapping of tables"),
        ({"groups": {"x": {"tables": [["dim_users"]]}}}, "names '['dim_users']', which is not a chatlake table"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_problem(raw, message) -> None:
    with pytest.raises(PolicyError, match=re.escape(message)):
        parse_policy(raw)


def test_scope_and_group_files_parse() -> None:
    assert parse_support_scope("principal,user_id\n# a comment\nsam,u_1\nsam, u_2\nsam,u_1\n\nsue,u_3\n") == {
        "sam": ["u_1", "u_2"], "sue": ["u_3"],
    }
    assert parse_groups("admin:root\nanalyst: alice, anna\n# x\n") == {"admin": ["root"], "analyst": ["alice", "anna"]}
    with pytest.raises(PolicyError, match="support scope line 1"):
        parse_support_scope("sam\n")
    with pytest.raises(PolicyError, match="not a usable account name"):
        parse_support_scope("sa m|x,u_1\n")
    with pytest.raises(PolicyError, match="groups file line 1"):
        parse_groups("admin root\n")


COMPLETED = {
    "metadata": {
        "queryId": "20261207_053000_00001_abcde",
        "query": "SELECT user_key FROM fact_user_metrics",
        "tables": [{
            "catalog": "delta", "schema": "chatlake", "table": "fact_user_metrics",
            "filters": ["user_key NOT IN (...)"],
            "columns": [{"column": "user_key", "mask": "from_big_endian_64(...)"}, {"column": "date_key"}],
            "directlyReferenced": True,
        }, {
            # read by the row filter's subquery, on the policy's behalf
            "catalog": "delta", "schema": "chatlake", "table": "dim_users", "directlyReferenced": False,
            "columns": [{"column": "user_key"}, {"column": "is_test_account"}],
            "referenceChain": [{"@type": "rowFilter", "expression": "...", "targetTableName": "fact_user_metrics"}],
        }],
    },
    "context": {"user": "alice", "groups": ["analyst"], "remoteClientAddress": "127.0.0.1"},
    "createTime": "2026-12-07T05:30:00.250Z",
    "endTime": "2026-12-07T05:30:01.500Z",
}


def test_a_completed_query_becomes_an_audit_row() -> None:
    import datetime as dt

    assert event_row(COMPLETED) == {
        "query_id": "20261207_053000_00001_abcde",
        "date_key": 20261207,
        "principal": "alice",
        "groups": ["analyst"],
        "client_address": "127.0.0.1",
        "started_at": dt.datetime(2026, 12, 7, 5, 30, 0, 250000),
        "finished_at": dt.datetime(2026, 12, 7, 5, 30, 1, 500000),
        "query_text": "SELECT user_key FROM fact_user_metrics",
        "tables": ["delta.chatlake.fact_user_metrics"],
        "columns": ["delta.chatlake.fact_user_metrics.date_key", "delta.chatlake.fact_user_metrics.user_key"],
        "row_filters": ["delta.chatlake.fact_user_metrics: user_key NOT IN (...)"],
        "column_masks": ["delta.chatlake.fact_user_metrics.user_key: from_big_endian_64(...)"],
        "outcome": "succeeded",
        "error": None,
    }


def test_tables_read_through_a_view_are_listed() -> None:
    view = {**COMPLETED, "metadata": {"queryId": "q3", "query": "SELECT * FROM v1", "tables": [
        {"catalog": "delta", "schema": "chatlake", "table": "dim_users", "directlyReferenced": False,
         "columns": [{"column": "user_id"}], "referenceChain": [{"@type": "view", "viewName": "v1"}]},
        {"catalog": "delta", "schema": "chatlake", "table": "v1", "directlyReferenced": True,
         "columns": [{"column": "user_id"}], "referenceChain": []},
    ]}}
    row = event_row(view)
    assert (row["tables"], row["columns"]) == (
        ["delta.chatlake.dim_users", "delta.chatlake.v1"],
        ["delta.chatlake.dim_users.user_id", "delta.chatlake.v1.user_id"],
    )


def test_a_denied_query_names_the_refused_table() -> None:
    denied = {
        **COMPLETED,
        "metadata": {"queryId": "q2", "query": "SELECT * FROM dim_users", "tables": []},
        "failureInfo": {"errorCode": {"name": "PERMISSION_DENIED"},
                        "failureMessage": "Access Denied: Cannot select from table delta.chatlake.dim_users"},
    }
    row = event_row(denied)
    assert (row["outcome"], row["tables"], row["error"]) == (
        "denied", ["delta.chatlake.dim_users"], "Access Denied: Cannot select from table delta.chatlake.dim_users"
    )
    failed = {**denied, "failureInfo": {"errorCode": {"name": "SYNTAX_ERROR"}, "failureMessage": "line 1:1"}}
    assert (event_row(failed)["outcome"], event_row(failed)["tables"]) == ("failed", [])


def test_a_line_cut_short_and_other_events_are_skipped() -> None:
    import json

    lines = [json.dumps({"metadata": {"queryId": "q0"}, "createTime": "2026-12-07T05:00:00Z"}),  # created event
             json.dumps(COMPLETED), json.dumps(COMPLETED)[:40]]
    assert [r["query_id"] for r in spooled_rows(lines)] == ["20261207_053000_00001_abcde"]


def test_the_access_config_keys_and_their_defaults() -> None:
    from jobs.config import ConfigError, parse_config

    base = {"landing_path": "/data/landing", "warehouse_path": "/data/warehouse"}
    default = parse_config(base, environ={}).access
    assert (default.host, default.port) == ("127.0.0.1", 8443)
    assert default.users_file.endswith("/conf/access/users.txt")
    assert default.support_scope_file.endswith("/conf/access/support_scope.csv")
    given = parse_config({**base, "access": {"port": 9443, "groups_file": "/etc/g.txt"}}, environ={}).access
    assert (given.port, given.groups_file) == (9443, "/etc/g.txt")
    with pytest.raises(ConfigError, match=re.escape("config key 'access.prot' is not known")):
        parse_config({**base, "access": {"prot": 1}}, environ={})
    with pytest.raises(ConfigError, match=re.escape("'access.port' must be a TCP port")):
        parse_config({**base, "access": {"port": 70000}}, environ={})


def test_serve_refuses_folders_open_to_others_and_missing_accounts(tmp_path) -> None:
    from jobs.config import parse_config
    from jobs.endpoint import AccessSetupError, bcrypt_line, check_files

    warehouse, landing = tmp_path / "warehouse", tmp_path / "landing"
    users, groups = tmp_path / "users.txt", tmp_path / "groups.txt"
    config = parse_config({"landing_path": str(landing), "warehouse_path": str(warehouse),
                           "access": {"users_file": str(users), "groups_file": str(groups)}}, environ={})
    with pytest.raises(AccessSetupError, match=re.escape("does not exist (run ./spark-submit.sh init first)")):
        check_files(config)
    warehouse.mkdir(mode=0o750)
    warehouse.chmod(0o750)
    landing.mkdir()
    landing.chmod(0o704)
    with pytest.raises(AccessSetupError) as refused:
        check_files(config)
    assert str(refused.value) == (
        f"the landing folder {landing} is open to other users (drwx---r--); only its owner and the endpoint's"
        f" group may read it: chmod o-rwx {landing}"
    )
    landing.chmod(0o750)
    with pytest.raises(AccessSetupError, match=re.escape(f"access.users_file {users} does not exist")):
        check_files(config)
    groups.write_text("")
    for bad in ("# accounts", "alice:$2b$10$" + "a" * 53, "alice:$2y$04$" + "a" * 53, "alice"):
        users.write_text(f"{bcrypt_line('sam', 'pw')}\n\n{bad}\n")
        with pytest.raises(AccessSetupError) as refused:
            check_files(config)
        assert str(refused.value).startswith(f"access.users_file {users} line 3 is not `name:$2y$..`")
    users.write_text(f"{bcrypt_line('sam', 'pw')}\n\n{bcrypt_line('alice', 'pw')}\n")
    check_files(config)  # nothing left to refuse


def test_a_recorded_process_counts_only_while_that_very_process_runs() -> None:
    from jobs.endpoint import _recorded_alive, _start_ticks

    me = os.getpid()
    assert _recorded_alive({"manager": me, "started": {"manager": _start_ticks(me)}}, "manager") == me
    # The same number, started at another time: a process that reused the pid, left alone.
    assert _recorded_alive({"manager": me, "started": {"manager": _start_ticks(me) + 1}}, "manager") is None
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert _recorded_alive({"manager": gone.pid, "started": {"manager": None}}, "manager") is None


def test_an_audit_event_that_cannot_be_written_leaves_the_spool_as_it_was(tmp_path, monkeypatch) -> None:
    import errno

    from jobs import audit_receiver

    audit_receiver.append_event(tmp_path, {"queryId": "q1"})
    before = (tmp_path / audit_receiver.INCOMING).read_bytes()
    real_write = os.write

    def disk_full_after_a_few_bytes(descriptor: int, data: bytes) -> int:
        if len(data) > 5:
            return real_write(descriptor, data[:5])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audit_receiver.os, "write", disk_full_after_a_few_bytes)
    with pytest.raises(OSError, match="No space left"):
        audit_receiver.append_event(tmp_path, {"queryId": "q2"})
    monkeypatch.undo()
    assert (tmp_path / audit_receiver.INCOMING).read_bytes() == before
    audit_receiver.append_event(tmp_path, {"queryId": "q3"})
    spooled = (tmp_path / audit_receiver.INCOMING).read_text().splitlines()
    assert [json.loads(line)["queryId"] for line in spooled] == ["q1", "q3"]


def test_the_certificate_names_every_address_clients_use() -> None:
    import socket

    from jobs.endpoint import certificate_names

    assert certificate_names("127.0.0.1") == ["DNS:localhost", "IP:127.0.0.1"]
    assert certificate_names("10.1.2.3") == ["DNS:localhost", "IP:127.0.0.1", "IP:10.1.2.3"]
    assert certificate_names("lake.internal") == ["DNS:localhost", "IP:127.0.0.1", "DNS:lake.internal"]
    assert certificate_names("0.0.0.0") == ["DNS:localhost", "IP:127.0.0.1", f"DNS:{socket.getfqdn()}"]
