"""The SQL endpoint's policies: conf/access/policy.yaml (the one readable source) checked and
turned into the rules of Trino's file-based access control (its rules.json).

Pure Python, no Spark: `serve` writes the rules again whenever the policy, the groups file or the
support scope file changes, and Trino reloads them within seconds.

How the rules are read (Trino's file access control): for each table, the first rule whose user
and group match decides; a table no rule grants is denied and not listed. So the rules go from
the most specific (one support principal's scope, one table's masks) to the most general.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from schemas.tables import TABLES_BY_NAME

CATALOG = "delta"
SCHEMA = "chatlake"
ALL = "all"
# Row filters and masks the policy may name.
NOT_TEST_ACCOUNTS = "not_test_accounts"
SUPPORT_SCOPE = "support_scope"
ROW_KINDS = (NOT_TEST_ACCOUNTS, SUPPORT_SCOPE)
KEYED_HASH = "keyed_hash"
NULL = "null"
MASK_KINDS = (KEYED_HASH, NULL)
READ = ["SELECT"]
# The endpoint's own account (table registration, the filters' subqueries) may do everything.
EVERYTHING = ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"]
ADMIN = "admin"
# Admins read everything and may create views (GRANT_SELECT lets others read a view they own).
# No OWNERSHIP of the pipeline's tables: that would let them be dropped through the endpoint.
ADMIN_PRIVILEGES = ["SELECT", "GRANT_SELECT"]
# Account names that may appear in a rule's user pattern without any escaping worries.
PRINCIPAL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]*$")
# Spark's type names of the columns a mask may replace by NULL -> Trino's.
TRINO_TYPES = {"string": "varchar", "bigint": "bigint", "int": "integer", "double": "double", "boolean": "boolean"}
MASK_KEY_CONTEXT = b"chatlake access mask"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the group and key."""


@dataclass(frozen=True)
class GroupPolicy:
    name: str
    tables: tuple[str, ...]  # the table names, or (ALL,)
    excluded: tuple[str, ...] = ()
    rows: dict[str, str] = field(default_factory=dict)  # table -> row kind
    masks: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> column -> mask kind

    def readable(self, known_tables: Iterable[str]) -> list[str]:
        """The tables this group may read, in name order."""
        if self.tables == (ALL,):
            return sorted(t for t in known_tables if t not in self.excluded)
        return sorted(self.tables)


@dataclass(frozen=True)
class Policy:
    groups: tuple[GroupPolicy, ...]


def parse_policy(raw: Any, known_tables: Iterable[str] = TABLES_BY_NAME) -> Policy:
    """Check a parsed policy document; every name it uses must be a known table and column."""
    known = set(known_tables)
    if not isinstance(raw, dict) or set(raw) != {"groups"} or not isinstance(raw["groups"], dict):
        raise PolicyError("the access policy must be a mapping with one key, 'groups'")
    groups = []
    for name, body in raw["groups"].items():
        if not isinstance(body, dict):
            raise PolicyError(f"access policy group '{name}' must be a mapping")
        unknown = set(body) - {"tables", "except", "rows", "masks"}
        if unknown:
            raise PolicyError(f"access policy group '{name}': key '{sorted(unknown)[0]}' is not known")
        tables = body.get("tables")
        if tables == ALL:
            listed: tuple[str, ...] = (ALL,)
        elif isinstance(tables, list) and tables:
            listed = tuple(_table(name, "tables", t, known) for t in tables)
        else:
            raise PolicyError(f"access policy group '{name}': 'tables' must be 'all' or a list of tables")
        excluded = tuple(_table(name, "except", t, known) for t in body.get("except") or [])
        if excluded and listed != (ALL,):
            raise PolicyError(f"access policy group '{name}': 'except' goes with 'tables: all' only")
        group = GroupPolicy(name, listed, excluded)
        readable = set(group.readable(known))
        for key in ("rows", "masks"):
            if not isinstance(body.get(key) or {}, dict):
                raise PolicyError(f"access policy group '{name}': '{key}' must be a mapping of tables")
        rows = {}
        for table, kind in (body.get("rows") or {}).items():
            if table not in readable:
                raise PolicyError(f"access policy group '{name}': rows of '{table}', which it may not read")
            if kind not in ROW_KINDS:
                raise PolicyError(f"access policy group '{name}': rows '{kind}' is not one of {ROW_KINDS}")
            rows[table] = kind
        masks: dict[str, dict[str, str]] = {}
        for table, columns in (body.get("masks") or {}).items():
            if table not in readable or not isinstance(columns, dict):
                raise PolicyError(f"access policy group '{name}': masks of '{table}', which it may not read")
            for column, kind in columns.items():
                if table in TABLES_BY_NAME and column not in TABLES_BY_NAME[table].column_names:
                    raise PolicyError(f"access policy group '{name}': '{table}' has no column '{column}'")
                if kind not in MASK_KINDS:
                    raise PolicyError(f"access policy group '{name}': mask '{kind}' is not one of {MASK_KINDS}")
            masks[table] = dict(columns)
        groups.append(GroupPolicy(name, listed, excluded, rows, masks))
    return Policy(tuple(groups))


def _table(group: str, key: str, table: Any, known: set[str]) -> str:
    if not isinstance(table, str) or table not in known:
        raise PolicyError(f"access policy group '{group}': {key} names '{table}', which is not a chatlake table")
    return str(table)


def load_policy(text: str) -> Policy:
    try:
        return parse_policy(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise PolicyError(f"the access policy is not valid YAML: {error}") from None


def parse_support_scope(text: str) -> dict[str, list[str]]:
    """support_scope_file: `principal,user_id` per line (a `principal,user_id` header allowed,
    blank lines and # comments skipped) -> principal -> its user ids, in file order."""
    scope: dict[str, list[str]] = {}
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for number, row in enumerate(csv.reader(io.StringIO("\n".join(lines))), start=1):
        cells = [cell.strip() for cell in row]
        if number == 1 and cells == ["principal", "user_id"]:
            continue
        if len(cells) != 2 or not all(cells):
            raise PolicyError(f"support scope line {number}: expected 'principal,user_id'")
        principal, user_id = cells
        _check_principal(principal)
        if user_id not in scope.setdefault(principal, []):
            scope[principal].append(user_id)
    return scope


def parse_groups(text: str) -> dict[str, list[str]]:
    """groups_file: `group:user1,user2` per line -> group -> members."""
    groups: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        group, sep, members = line.partition(":")
        if not sep or not group.strip():
            raise PolicyError(f"groups file line {number}: expected 'group:user1,user2'")
        names = [m.strip() for m in members.split(",") if m.strip()]
        for name in names:
            _check_principal(name)
        groups.setdefault(group.strip(), []).extend(names)
    return groups


def _check_principal(name: str) -> None:
    if not PRINCIPAL_NAME.match(name):
        raise PolicyError(f"'{name}' is not a usable account name (letters, digits, _ . @ -)")


def mask_key(secret: str) -> str:
    """The analysts' mask key (hex), derived from the erasure hash key: secret, and not the
    erasure key itself, so a masked key cannot be matched against erasure_log's hashes."""
    return hmac.new(secret.encode(), MASK_KEY_CONTEXT, hashlib.sha256).hexdigest()


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _exact(names: Sequence[str]) -> str:
    """A Java regular expression matching exactly these names (they are [a-z0-9_] table names)."""
    return "|".join(names)


def _user_pattern(name: str) -> str:
    """A pattern matching exactly `name`: of PRINCIPAL_NAME's characters only "." means more."""
    return name.replace(".", r"\.")


def _row_filter(kind: str, table: str, user_ids: Sequence[str]) -> str:
    users = f"{CATALOG}.{SCHEMA}.dim_users"
    if kind == NOT_TEST_ACCOUNTS:
        # NOT IN over a NOT NULL key; a null is_test_account is not true, so that user stays.
        return f"user_key NOT IN (SELECT user_key FROM {users} WHERE is_test_account)"
    if not user_ids:
        return "false"
    listed = ", ".join(_sql_text(u) for u in user_ids)
    if table == "dim_users":
        return f"user_id IN ({listed})"
    return f"user_key IN (SELECT user_key FROM {users} WHERE user_id IN ({listed}))"


def _mask(kind: str, table: str, column: str, key_hex: str) -> str:
    if kind == KEYED_HASH:
        # The first 8 bytes of HMAC-SHA256(key, the 8-byte key) as a BIGINT: the same type and
        # the same value for the same user on every query, unguessable without the key.
        return (
            f"from_big_endian_64(substr(hmac_sha256(to_big_endian_64({column}), from_hex('{key_hex}')), 1, 8))"
        )
    spec = TABLES_BY_NAME[table]
    spark_type = spec.schema[column].dataType.simpleString()
    return f"CAST(NULL AS {TRINO_TYPES[spark_type]})"


def build_rules(
    policy: Policy,
    service_user: str,
    key_hex: str,
    support_scope: Mapping[str, Sequence[str]],
    known_tables: Iterable[str] = TABLES_BY_NAME,
) -> dict[str, Any]:
    """Trino file access control rules for `policy`.

    `service_user` is the endpoint's own account (it registers tables and runs the filters'
    subqueries); `key_hex` keys the masks; `support_scope` maps a principal to the user ids
    whose rows its support_scope filters let through (a principal not in it sees none)."""
    known = sorted(set(known_tables))
    service = _user_pattern(service_user)
    environment = {"user": service_user}
    tables: list[dict[str, Any]] = [
        {"user": service, "catalog": CATALOG, "privileges": EVERYTHING},
        # system.runtime.queries: `serve --stop` waits until no query runs.
        {"user": service, "catalog": "system", "privileges": READ},
    ]
    for group in policy.groups:
        readable = group.readable(known)
        special = sorted(set(group.rows) | set(group.masks))
        for table in special:
            base: dict[str, Any] = {"group": _user_pattern(group.name), "catalog": CATALOG, "schema": SCHEMA,
                                    "table": table, "privileges": READ}
            columns = [
                {"name": column, "mask": _mask(kind, table, column, key_hex)}
                for column, kind in sorted(group.masks.get(table, {}).items())
            ]
            if columns:
                base["columns"] = columns
            kind = group.rows.get(table)
            if kind == SUPPORT_SCOPE:
                for principal in sorted(support_scope):
                    tables.append({"user": _user_pattern(principal), **base,
                                   "filter": _row_filter(kind, table, support_scope[principal]),
                                   "filter_environment": environment})
                tables.append({**base, "filter": "false"})
            elif kind is not None:
                tables.append({**base, "filter": _row_filter(kind, table, ()), "filter_environment": environment})
            else:
                tables.append(base)
        plain = [t for t in readable if t not in special]
        privileges = ADMIN_PRIVILEGES if group.name == ADMIN else READ
        if group.name == ADMIN and group.tables == (ALL,) and not special:
            # The pipeline's tables to read; any other name (a view, a $history table, a table
            # made after this was written) also to own, which creating and dropping a view needs.
            tables.append({"group": ADMIN, "catalog": CATALOG, "schema": SCHEMA, "table": _exact(plain),
                           "privileges": privileges})
            tables.append({"group": ADMIN, "catalog": CATALOG, "privileges": [*privileges, "OWNERSHIP"]})
        elif plain:
            tables.append({"group": _user_pattern(group.name), "catalog": CATALOG, "schema": SCHEMA,
                           "table": _exact(plain), "privileges": privileges})
    admins = [g for g in policy.groups if g.name == ADMIN]
    owners = [{"user": service, "owner": True}] + ([{"group": ADMIN, "owner": True}] if admins else [])
    full = [{"user": service, "allow": "all"}] + ([{"group": ADMIN, "allow": "all"}] if admins else [])
    viewers = [{"user": service, "allow": ["execute", "kill", "view"]}] + (
        [{"group": ADMIN, "allow": ["execute", "kill", "view"]}] if admins else []
    )
    return {
        "catalogs": [*full, {"catalog": f"{CATALOG}|system", "allow": "read-only"}],
        "schemas": [*owners, {"owner": False}],
        "tables": tables,
        # Everyone else runs queries and sees (and kills) only their own.
        "queries": [*viewers, {"allow": ["execute"]}],
        "procedures": [
            {"user": service, "catalog": CATALOG, "schema": "system", "procedure": ".*", "privileges": ["EXECUTE"]}
        ],
    }
