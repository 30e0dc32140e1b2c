"""The raw event format (docs/raw-events.md), declared once.

Each field is a `FieldSpec`: where it sits in the JSON line, its JSON type, whether it must be
present and non-null, and the values it may take. The ingest parser checks lines against these
specs in the order given here, so the first failing check is the reason a line is quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass

# JSON types as Spark's schema_of_variant names them.
JSON_STRING = "STRING"
JSON_INT = "BIGINT"
JSON_BOOL = "BOOLEAN"
JSON_OBJECT = "OBJECT"

SCHEMA_VERSION = 1
INT32_MAX = 2**31 - 1

EVENT_TYPES = (
    "message_sent",
    "message_status",
    "conversation_created",
    "participant_joined",
    "participant_left",
    "user_registered",
    "user_updated",
)
DEVICE_TYPES = ("phone", "tablet", "desktop", "web")
PLATFORMS = ("ios", "android", "web", "windows", "macos", "linux")
NETWORK_TYPES = ("wifi", "cellular_5g", "cellular_4g", "cellular_3g", "ethernet", "unknown")
MESSAGE_TYPES = (
    "text",
    "image",
    "video",
    "audio",
    "file",
    "sticker",
    "location",
    "system",
    "ephemeral_text",
)
STATUSES = ("sent", "delivered", "read", "failed")
CONVERSATION_TYPES = ("direct", "group", "channel")
PRIVACY_LEVELS = ("private", "members", "public")
ROLES = ("owner", "admin", "member")
ACCOUNT_TYPES = ("free", "premium", "business")
MESSAGING_STATUSES = ("active", "away", "suspended")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a raw event line."""

    path: str  # dotted JSON path below the line's object, e.g. "device.device_id"
    column: str  # the parsed column's name
    json_type: str
    required: bool  # present and non-null; otherwise an absent field reads as null
    allowed: tuple[str, ...] | None = None
    minimum: int | None = None
    is_timestamp: bool = False
    # False for a container whose fields are specs of their own: only its type is checked.
    stored: bool = True


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("schema_version", "schema_version", JSON_INT, True),
    FieldSpec("event_id", "event_id", JSON_STRING, True),
    FieldSpec("event_type", "event_type", JSON_STRING, True),
    FieldSpec("server_ts", "server_ts_raw", JSON_STRING, True, is_timestamp=True),
    FieldSpec("client_ts", "client_ts_raw", JSON_STRING, False, is_timestamp=True),
    FieldSpec("user_id", "user_id", JSON_STRING, True),
    FieldSpec("device", "device_raw", JSON_OBJECT, False, stored=False),
)

# Checked only when `device` is an object.
DEVICE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("device.device_id", "device_id", JSON_STRING, True),
    FieldSpec("device.device_type", "device_type", JSON_STRING, True, DEVICE_TYPES),
    FieldSpec("device.platform", "platform", JSON_STRING, True, PLATFORMS),
    FieldSpec("device.app_version", "app_version", JSON_STRING, True),
    FieldSpec("device.os_version", "os_version", JSON_STRING, True),
    FieldSpec("device.network_type", "network_type", JSON_STRING, True, NETWORK_TYPES),
)

EVENT_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "message_sent": (
        FieldSpec("message_id", "message_id", JSON_STRING, True),
        FieldSpec("conversation_id", "conversation_id", JSON_STRING, True),
        FieldSpec("message_type", "message_type", JSON_STRING, True, MESSAGE_TYPES),
        FieldSpec("text", "text", JSON_STRING, False),
        FieldSpec("media_count", "media_count", JSON_INT, True, minimum=0),
        FieldSpec("size_bytes", "size_bytes", JSON_INT, True, minimum=0),
        FieldSpec("seq", "seq", JSON_INT, True, minimum=1),
        FieldSpec("reply_to_message_id", "reply_to_message_id", JSON_STRING, False),
        FieldSpec("metadata", "metadata", JSON_OBJECT, False),
    ),
    "message_status": (
        FieldSpec("message_id", "message_id", JSON_STRING, True),
        FieldSpec("conversation_id", "conversation_id", JSON_STRING, True),
        FieldSpec("status", "status", JSON_STRING, True, STATUSES),
    ),
    "conversation_created": (
        FieldSpec("conversation_id", "conversation_id", JSON_STRING, True),
        FieldSpec("conversation_type", "conversation_type", JSON_STRING, True, CONVERSATION_TYPES),
        FieldSpec("conversation_name", "conversation_name", JSON_STRING, False),
        FieldSpec("is_encrypted", "is_encrypted", JSON_BOOL, True),
        FieldSpec("privacy_level", "privacy_level", JSON_STRING, True, PRIVACY_LEVELS),
        FieldSpec("metadata", "metadata", JSON_OBJECT, False),
    ),
    "participant_joined": (
        FieldSpec("conversation_id", "conversation_id", JSON_STRING, True),
        FieldSpec("role", "role", JSON_STRING, True, ROLES),
    ),
    "participant_left": (FieldSpec("conversation_id", "conversation_id", JSON_STRING, True),),
    "user_registered": (
        FieldSpec("account_type", "account_type", JSON_STRING, True, ACCOUNT_TYPES),
        FieldSpec("messaging_status", "messaging_status", JSON_STRING, True, MESSAGING_STATUSES),
        FieldSpec("is_test_account", "is_test_account", JSON_BOOL, True),
        FieldSpec("preferences", "preferences", JSON_OBJECT, False),
    ),
}
EVENT_FIELDS["user_updated"] = EVENT_FIELDS["user_registered"]


def all_columns() -> list[FieldSpec]:
    """Every distinct parsed column, in declaration order (first spec of a column wins)."""
    seen: dict[str, FieldSpec] = {}
    for spec in (*COMMON_FIELDS, *DEVICE_FIELDS, *(s for f in EVENT_FIELDS.values() for s in f)):
        seen.setdefault(spec.column, spec)
    return list(seen.values())
