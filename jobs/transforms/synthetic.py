"""The synthetic world behind `generate`: users, devices, conversations, messages and their events.

Everything is a deterministic function of (seed, ids): every random choice is a hash of the seed,
a tag naming the choice and the ids it depends on, so that a row can be computed on its own,
without joins, and the same seed gives the same events. The world starts on the first generated
day (`World.start`): day 0 registers the initial users and creates the initial conversations.

Each event family turns a `spark.range` frame into events with the columns of `EVENT_COLUMNS`:
`line` is the finished JSON line (raw-events.md); the other columns steer lateness, duplicates
and bad records in `land` and `corrupt`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.transforms import synthetic_text as text
from schemas.topics import TOPIC_NAMES

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
# seq = days since the conversation's creation * stride + position within the day: strictly
# increasing per conversation without counting earlier days, and within INT32 for years.
SEQ_DAY_STRIDE = 1_000_000
MAX_DAYS = 2_000
# Messages come in bursts of up to BURST_BLOCK consecutive rows in one conversation.
BURST_BLOCK = 8
BURST_PATTERNS = 64
BURST_BREAK_PROBABILITY = 0.35
MAX_RECIPIENT_STATUSES = 3
TALKERS_IN_GROUP = 5
MAX_LATE_DAYS = 3
JSON_OPTIONS = {"ignoreNullFields": "false"}

EVENT_COLUMNS = ("day", "server_ms", "event_type", "event_id", "has_client_ts", "has_device",
                 "is_retry", "line")

BAD_KINDS = (
    "not_json",
    "truncated_json",
    "missing_field",
    "wrong_type",
    "bad_value",
    "bad_timestamp",
    "unknown_event_type",
    "schema_version_2",
    "negative_count",
)

UTC_OFFSETS_MINUTES = ((0, 18), (60, 14), (120, 6), (180, 4), (330, 8), (345, 1), (480, 8),
                       (540, 5), (570, 1), (600, 3), (-210, 3), (-180, 6), (-240, 4), (-300, 9),
                       (-360, 3), (-480, 6), (-600, 1))
DEVICE_KINDS = (("phone", "ios", 25), ("phone", "android", 32), ("tablet", "ios", 5),
                ("tablet", "android", 3), ("desktop", "windows", 10), ("desktop", "macos", 7),
                ("desktop", "linux", 2), ("web", "web", 16))
MESSAGE_TYPES = (("text", 68), ("image", 10), ("video", 3), ("audio", 4), ("file", 3),
                 ("sticker", 4), ("location", 2), ("system", 1), ("ephemeral_text", 5))
GROUP_NAMES = ("Weekend crew", "Família 🏡", "Book club 📚", "Équipe projet", "山登り部",
               "Flatmates", "Running buddies 🏃", "Team Zürich", "Cousins", "Board game night",
               "Class of 2015", "Ski trip ❄️")
CHANNEL_NAMES = ("Announcements", "Neighbourhood news", "Deals & offers", "Release notes",
                 "Café Lumière", "City marathon", "Community updates")
GARBAGE_LINES = ("<!DOCTYPE html><title>504 Gateway Timeout</title>",
                 "collector restarted, buffer flushed", "{{{", "#ERR upstream closed",
                 "ZXZlbnQ6IG1lc3NhZ2Vfc2VudA==", "event_id=?;user=?")
CONVERSATION_TYPES_FIRST = ("group", "direct", "channel")
UNKNOWN_EVENT_TYPES = ("typing_started", "reaction_added", "call_started", "message_edited")
# Experiments in conversation_created metadata (analytics.md): (name, share of conversations
# enrolled, variants drawn evenly). One effect is planted: in `reply_nudge`'s `treatment` the
# nudge gets more messages read (PLANTED_READ_SHARE of them instead of READ_SHARE);
# `treatment_b` and `dark_theme` change nothing, so a report that finds them different is a
# false positive.
EXPERIMENTS = (("reply_nudge", 0.5, ("control", "treatment", "treatment_b")),
               ("dark_theme", 0.5, ("control", "treatment")))
PLANTED_EXPERIMENT, PLANTED_VARIANT = "reply_nudge", "treatment"
# Whether anyone reads a message is drawn once per message, alike in every conversation, so
# that messages are independent observations of the read rate, as the report's two-proportion
# z-test counts them; which further recipients read it too is drawn per recipient.
READ_SHARE, PLANTED_READ_SHARE, OTHER_READERS_SHARE = 0.55, 0.9, 0.45
DELIVERED_SHARE = 0.88
# The older form, `"experiment": "<name>"` (= variant treatment), on some conversations.
OLD_FORM_EXPERIMENT, OLD_FORM_SHARE = "compose_v2", 0.1
# Clients that send a malformed entry (a number as variant): ignored and counted downstream.
MALFORMED_EXPERIMENT, MALFORMED_SHARE = "quick_reactions", 0.05


@dataclass(frozen=True)
class World:
    """Sizes of the synthetic world, derived from the requested volume."""

    seed: int
    start: dt.date
    days: int
    messages_per_day: int
    bad_rate: float = 0.01
    duplicate_rate: float = 0.01

    @property
    def initial_users(self) -> int:
        return max(40, self.messages_per_day // 20)

    @property
    def users_per_day(self) -> int:
        return max(1, self.initial_users // 100)

    @property
    def initial_conversations(self) -> int:
        return max(16, self.messages_per_day // 15)

    @property
    def conversations_per_day(self) -> int:
        return max(1, self.initial_conversations // 50)

    @property
    def total_users(self) -> int:
        return self.initial_users + (self.days - 1) * self.users_per_day

    @property
    def total_conversations(self) -> int:
        return self.initial_conversations + (self.days - 1) * self.conversations_per_day

    @property
    def updates_per_day(self) -> int:
        return max(2, self.initial_users // 150)

    @property
    def churn_per_day(self) -> int:
        return max(2, self.initial_conversations // 25)

    @property
    def origin_ms(self) -> int:
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        start = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)
        return int((start - epoch).total_seconds()) * 1000

    @property
    def files_per_day(self) -> int:
        return min(12, 3 + self.messages_per_day // 500_000)

    # --- random columns -------------------------------------------------------------------

    def uniform(self, tag: str, *parts: Column | str | int) -> Column:
        """A number in [0, 1) that depends only on the seed, the tag and `parts`."""
        columns = [p if isinstance(p, Column) else F.lit(p) for p in parts]
        hashed = F.xxhash64(F.lit(self.seed), F.lit(tag), *columns)
        return F.shiftrightunsigned(hashed, 11).cast("double") / float(2**53)

    def below(self, n: Column | int, tag: str, *parts: Column | str | int) -> Column:
        """A whole number in [0, n)."""
        n_col = n if isinstance(n, Column) else F.lit(n)
        return F.least(F.floor(self.uniform(tag, *parts) * n_col), n_col - 1).cast("long")

    def hex_id(self, prefix: str, length: int, tag: str, *parts: Column | str | int) -> Column:
        columns = [p if isinstance(p, Column) else F.lit(p) for p in parts]
        hashed = F.lower(F.hex(F.xxhash64(F.lit(self.seed), F.lit(tag), *columns)))
        return F.concat(F.lit(prefix), F.substring(F.lpad(hashed, 16, "0"), 1, length))

    # --- users and devices ----------------------------------------------------------------

    def users_before(self, day: Column) -> Column:
        """How many users exist when day `day` begins (day 0: the initial ones)."""
        return F.lit(self.initial_users) + F.greatest(day - 1, F.lit(0)) * self.users_per_day

    def user_birth_day(self, user: Column) -> Column:
        return F.when(user < self.initial_users, F.lit(0)).otherwise(
            F.floor((user - self.initial_users) / self.users_per_day) + 1
        ).cast("int")

    def user_id(self, user: Column) -> Column:
        return F.format_string("u_%06d", user)

    def with_actor(self, frame: DataFrame, event_key: Sequence[Column],
                   device_absent: Column) -> DataFrame:
        """Add `device` (the device of `user` that logged the event, as reported at `server_ms`,
        or null) and `client_ts` (its clock in the user's UTC offset: skewed, sometimes null)."""
        user, server_ms = F.col("user"), F.col("server_ms")
        devices = F.when(self.uniform("device_count", user) < 0.45, 2).otherwise(1)
        frame = (
            frame
            .withColumn("_slot", self.below(devices, "device_slot", *event_key))
            .withColumn("_kind", weighted_index(self.uniform("device_kind", user, F.col("_slot")),
                                                [w for _, _, w in DEVICE_KINDS]) + 1)
            .withColumn("_days_in", (server_ms - self.origin_ms) / float(DAY_MS))
        )
        slot, days_in = F.col("_slot"), F.col("_days_in")
        device_type = F.element_at(text.literal_array([t for t, _, _ in DEVICE_KINDS]),
                                   F.col("_kind"))
        platform = F.element_at(text.literal_array([p for _, p, _ in DEVICE_KINDS]), F.col("_kind"))
        frame = frame.withColumn("_type", device_type).withColumn("_platform", platform)
        device_type, platform = F.col("_type"), F.col("_platform")
        # Apps update every three weeks, operating systems every two months, each device on its
        # own phase: the same device_id reports new versions over time (also within a day).
        app_epoch = F.floor(days_in / 21 + self.uniform("app_phase", user, slot))
        app_minor = F.lit(8) + self.below(3, "app_base", user, slot) + app_epoch
        app_patch = F.pmod(F.xxhash64(F.lit(self.seed), F.lit("patch"), user, slot, app_epoch),
                           F.lit(6))
        os_epoch = F.floor(days_in / 60 + self.uniform("os_phase", user, slot))
        os_base = self.below(3, "os_base", user, slot)
        os_version = (
            F.when(platform == "ios", F.format_string("%d.%d", 17 + F.floor(os_base / 2),
                                                      F.pmod(os_base + os_epoch, F.lit(7))))
            .when(platform == "android", F.format_string("%d", 13 + os_base + os_epoch))
            .when(platform == "windows", F.format_string("%d.0", 10 + F.pmod(os_base, F.lit(2))))
            .when(platform == "macos", F.format_string("%d.%d", 14 + F.floor(os_base / 2),
                                                       F.pmod(os_epoch + os_base, F.lit(6))))
            .when(platform == "linux", F.format_string("6.%d", 5 + os_base + os_epoch))
            .otherwise(F.format_string("%d.0", 120 + os_base + os_epoch * 2))
        )
        # The network changes every couple of hours on mobile devices.
        u_net = self.uniform("network", user, slot, F.floor(server_ms / (2 * HOUR_MS)))
        mobile = weighted_pick(u_net, [("wifi", 55), ("cellular_5g", 14), ("cellular_4g", 20),
                                       ("cellular_3g", 4), ("unknown", 7)])
        wired = weighted_pick(u_net, [("ethernet", 55), ("wifi", 43), ("unknown", 2)])
        browser = weighted_pick(u_net, [("wifi", 60), ("ethernet", 30), ("cellular_4g", 5),
                                        ("unknown", 5)])
        network = (F.when(device_type.isin("phone", "tablet"), mobile)
                   .when(device_type == "desktop", wired).otherwise(browser))
        device = F.struct(
            self.hex_id("dev-", 10, "device_id", user, slot).alias("device_id"),
            device_type.alias("device_type"),
            platform.alias("platform"),
            F.format_string("5.%d.%d", app_minor, app_patch).alias("app_version"),
            os_version.alias("os_version"),
            network.alias("network_type"),
        )
        frame = frame.withColumn("device", F.when(device_absent, F.lit(None)).otherwise(device))

        offset_index = weighted_index(self.uniform("utc_offset", user),
                                      [w for _, w in UTC_OFFSETS_MINUTES]) + 1
        u_skew = self.uniform("clock_skew", user)
        skew_range_ms = (F.when(u_skew < 0.8, 1_500).when(u_skew < 0.93, 10 * MINUTE_MS)
                         .otherwise(3 * HOUR_MS))
        frame = (
            frame
            .withColumn("_offset", F.element_at(
                text.literal_array([m for m, _ in UTC_OFFSETS_MINUTES]), offset_index
            ).cast("long"))
            .withColumn("_skew_ms", F.floor((self.uniform("skew_amount", user) * 2 - 1)
                                            * skew_range_ms))
            .withColumn("_style", self.uniform("clock_style", user))
        )
        offset, style = F.col("_offset"), F.col("_style")
        latency_ms = F.floor(30 + self.uniform("latency", *event_key) * 2_500)
        sub_ms_us = self.below(1000, "micros", *event_key)
        frame = frame.withColumn("_local", F.timestamp_micros(
            (server_ms - latency_ms + F.col("_skew_ms")) * 1000 + sub_ms_us + offset * 60_000_000))
        local = F.col("_local")
        wall = (F.when(style < 0.25, F.date_format(local, "yyyy-MM-dd'T'HH:mm:ss"))
                .when(style < 0.8, F.date_format(local, "yyyy-MM-dd'T'HH:mm:ss.SSS"))
                .otherwise(F.date_format(local, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")))
        sign = F.when(offset < 0, "-").otherwise("+")
        offset_text = F.when((offset == 0) & (style < 0.6), F.lit("Z")).otherwise(
            F.format_string("%s%02d:%02d", sign, F.floor(F.abs(offset) / 60),
                            F.pmod(F.abs(offset), F.lit(60)))
        )
        # Server-side events (no device) have no client clock either.
        absent = device_absent | (self.uniform("client_ts_absent", *event_key) < 0.04)
        return (
            frame
            .withColumn("client_ts", F.when(absent, F.lit(None).cast("string"))
                        .otherwise(F.concat(wall, offset_text)))
            .drop("_slot", "_kind", "_days_in", "_type", "_platform", "_offset", "_skew_ms",
                  "_style", "_local")
        )

    def user_fields(self, tag: str, *key: Column) -> list[Column]:
        preferences = F.when(
            self.uniform(f"{tag}_prefs", *key) < 0.3, F.lit(None)
        ).otherwise(F.struct(
            (self.uniform(f"{tag}_notify", *key) < 0.8).alias("notifications"),
            text.pick(("light", "dark", "system"), self.uniform(f"{tag}_theme", *key)).alias("theme"),
            text.pick(("en-US", "pt-BR", "ja-JP", "de-DE", "fr-FR", "hi-IN", "es-MX"),
                      self.uniform(f"{tag}_lang", *key)).alias("language"),
        ))
        return [
            weighted_pick(self.uniform(f"{tag}_account", *key),
                          [("free", 78), ("premium", 17), ("business", 5)]).alias("account_type"),
            weighted_pick(self.uniform(f"{tag}_status", *key),
                          [("active", 80), ("away", 18), ("suspended", 2)]).alias("messaging_status"),
            (self.uniform("test_account", key[0]) < 0.01).alias("is_test_account"),
            preferences.alias("preferences"),
        ]

    # --- conversations --------------------------------------------------------------------

    def conversations_before(self, day: Column) -> Column:
        """Conversations that can carry messages on `day`: those created on earlier days
        (day 0: the initial ones, created in its first hours)."""
        return (F.lit(self.initial_conversations)
                + F.greatest(day - 1, F.lit(0)) * self.conversations_per_day)

    def conversation_birth_day(self, conversation: Column) -> Column:
        return F.when(conversation < self.initial_conversations, F.lit(0)).otherwise(
            F.floor((conversation - self.initial_conversations) / self.conversations_per_day) + 1
        ).cast("int")

    def conversation_id(self, conversation: Column) -> Column:
        return self.hex_id("c_", 12, "conversation_id", conversation)

    def with_conversation(self, frame: DataFrame) -> DataFrame:
        """Add the properties of the conversation in column `conversation`: c_birth (day),
        c_pool (users it could draw members from), c_type, c_size, c_creator, c_talkers
        (members who send messages; the others only read, and may leave and rejoin)."""
        c = F.col("conversation")
        u_size = self.uniform("conversation_size", c)
        kind = F.col("c_type")
        wanted = (F.when(kind == "direct", F.lit(2))
                  .when(kind == "group", 3 + F.floor(F.pow(u_size, 1.5) * 10))
                  .otherwise(8 + F.floor(u_size * u_size * 50)))
        size = F.col("c_size")
        return (
            frame
            .withColumn("c_birth", self.conversation_birth_day(c))
            .withColumn("c_pool", self.users_before(F.col("c_birth")).cast("long"))
            # the three most active conversations are one of each type, even in a tiny world
            .withColumn("c_type", F.when(c < len(CONVERSATION_TYPES_FIRST), F.element_at(
                text.literal_array(CONVERSATION_TYPES_FIRST), (c + 1).cast("int")))
                .otherwise(weighted_pick(self.uniform("conversation_type", c),
                                         [("direct", 62), ("group", 31), ("channel", 7)])))
            .withColumn("c_size", F.least(wanted, F.col("c_pool")).cast("long"))
            .withColumn("c_creator", F.floor(F.col("c_pool")
                                             * F.pow(self.uniform("creator", c), 2.5)).cast("long"))
            .withColumn("c_talkers", F.when(kind == "direct", F.lit(2))
                        .when(kind == "group", F.least(size, F.lit(TALKERS_IN_GROUP)))
                        .otherwise(F.least(size, F.lit(2))).cast("long"))
        )

    def experiment_variant(self, experiment: str, conversation: Column) -> Column:
        """The variant of `experiment` the conversation is assigned to; null if not enrolled."""
        share, variants = next((share, variants) for name, share, variants in EXPERIMENTS if name == experiment)
        enrolled = self.uniform("enrolled", F.lit(experiment), conversation) < share
        variant = F.element_at(text.literal_array(variants),
                               (self.below(len(variants), "variant", F.lit(experiment), conversation) + 1)
                               .cast("int"))
        return F.when(enrolled, variant)

    def conversation_metadata(self, conversation: Column, u_meta: Column) -> Column:
        """The JSON text of a conversation_created's metadata (null when it has none): a
        source, the experiments object, the older single experiment, a malformed entry."""
        entries = [F.when(self.experiment_variant(name, conversation).isNotNull(),
                          F.format_string('"%s": "%s"', F.lit(name), self.experiment_variant(name, conversation)))
                   for name, _, _ in EXPERIMENTS]
        entries.append(F.when(self.uniform("malformed_experiment", conversation) < MALFORMED_SHARE,
                              F.lit(f'"{MALFORMED_EXPERIMENT}": 1')))
        experiments = F.array_join(F.array(*entries), ", ")
        fields = F.array(
            F.when(u_meta >= 0.6, F.format_string(
                '"source": "%s"', text.pick(("invite_link", "contacts", "qr_code"), u_meta))),
            F.when(experiments != "", F.concat(F.lit('"experiments": {'), experiments, F.lit("}"))),
            F.when(self.uniform("old_form_experiment", conversation) < OLD_FORM_SHARE,
                   F.lit(f'"experiment": "{OLD_FORM_EXPERIMENT}"')),
        )
        body = F.array_join(fields, ", ")
        return F.when(body != "", F.concat(F.lit("{"), body, F.lit("}")))

    def member(self, k: Column) -> Column:
        """The user index of member k (0 = creator) of the conversation of `with_conversation`;
        members are distinct: member k > 0 sits in its own slice of the user ring."""
        pool, size = F.col("c_pool"), F.col("c_size")
        width = F.floor((pool - 1) / F.greatest(size - 1, F.lit(1)))
        offset = ((k - 1) * width + 1
                  + F.floor(F.pow(self.uniform("member", F.col("conversation"), k), 2) * width))
        return (F.when(k == 0, F.col("c_creator"))
                .otherwise(F.pmod(F.col("c_creator") + offset, pool)).cast("long"))


WEIGHT_RESOLUTION = 200


def weighted_index(uniform: Column, weights: Sequence[int]) -> Column:
    """The index drawn with the given weights: one lookup in a table of WEIGHT_RESOLUTION
    entries (a chain of comparisons would repeat the `uniform` expression once per weight)."""
    total = float(sum(weights))
    table, cumulative, index = [], 0.0, 0
    bounds = []
    for weight in weights:
        cumulative += weight / total
        bounds.append(cumulative)
    for cell in range(WEIGHT_RESOLUTION):
        while index < len(weights) - 1 and (cell + 0.5) / WEIGHT_RESOLUTION > bounds[index]:
            index += 1
        table.append(index)
    position = (F.floor(uniform * WEIGHT_RESOLUTION) + 1).cast("int")
    return F.element_at(text.literal_array(table), position)


def weighted_pick(uniform: Column, choices: Sequence[tuple[str, int]]) -> Column:
    index = weighted_index(uniform, [w for _, w in choices])
    return F.element_at(text.literal_array([v for v, _ in choices]), index + 1)


def _burst_tables() -> tuple[list[int], list[int]]:
    """For BURST_PATTERNS fixed ways to cut a block of rows into bursts: each row's position
    within its burst and its burst's number within the block."""
    rng = random.Random(20261101)
    positions, segments = [], []
    for _ in range(BURST_PATTERNS):
        segment, position = 0, 0
        for row in range(BURST_BLOCK):
            if row > 0 and rng.random() < BURST_BREAK_PROBABILITY:
                segment, position = segment + 1, 0
            elif row > 0:
                position += 1
            positions.append(position)
            segments.append(segment)
    return positions, segments


BURST_POSITIONS, BURST_SEGMENTS = _burst_tables()


def _ts_text(server_ms: Column) -> Column:
    return F.date_format(F.timestamp_millis(server_ms), "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")


def _finish(frame: DataFrame, payload: Column, actor_key: Sequence[Column],
            device_absent: Column, is_retry: Column | None = None) -> DataFrame:
    """A family's events in one shape: the event-type-specific fields as a JSON object
    (`payload`) plus what `with_lines` needs to add the common fields once for all families."""
    return frame.select(
        F.col("day").cast("int").alias("day"),
        F.col("server_ms").cast("long").alias("server_ms"),
        F.col("event_type"),
        F.col("event_id"),
        F.col("user").cast("long").alias("user"),
        F.xxhash64(*actor_key).alias("actor_key"),
        device_absent.alias("device_absent"),
        (is_retry if is_retry is not None else F.lit(False)).alias("is_retry"),
        payload.alias("payload"),
    )


def with_lines(world: World) -> Callable[[DataFrame], DataFrame]:
    """The finished JSON line: the common fields (device and client clock included) followed
    by the payload's fields."""

    def build(events: DataFrame) -> DataFrame:
        frame = world.with_actor(events, [F.col("actor_key")], F.col("device_absent"))
        common = F.to_json(F.struct(
            F.lit(1).alias("schema_version"),
            F.col("event_id"),
            F.col("event_type"),
            _ts_text(F.col("server_ms")).alias("server_ts"),
            F.col("client_ts"),
            world.user_id(F.col("user")).alias("user_id"),
            F.col("device"),
        ), JSON_OPTIONS)
        line = F.concat(F.regexp_replace(common, r"\}$", ","),
                        F.regexp_replace(F.col("payload"), r"^\{", ""))
        return frame.select(
            "day", "server_ms", "event_type", "event_id",
            F.col("client_ts").isNotNull().alias("has_client_ts"),
            F.col("device").isNotNull().alias("has_device"),
            "is_retry",
            line.alias("line"),
        )

    return build


def _json(*fields: Column) -> Column:
    return F.to_json(F.struct(*fields), JSON_OPTIONS)


def user_events(world: World) -> Callable[[DataFrame], DataFrame]:
    """`ids` 0..total_users+days*updates_per_day-1: registrations first, then updates."""

    def build(ids: DataFrame) -> DataFrame:
        is_update = F.col("id") >= world.total_users
        update_day = F.floor((F.col("id") - world.total_users) / world.updates_per_day)
        frame = ids.select(
            "id",
            is_update.alias("is_update"),
            F.when(is_update, update_day.cast("int"))
            .otherwise(world.user_birth_day(F.col("id"))).alias("day"),
        )
        # Updates pick an existing user; two updates of one user on a day happen.
        updated_user = world.below(world.users_before(F.col("day")), "updated_user", F.col("id"))
        day_start = F.lit(world.origin_ms) + F.col("day").cast("long") * DAY_MS
        u_time = world.uniform("user_time", F.col("id"))
        # Day 0 registers its users in the first hour, before the first conversations; updates
        # come after that hour.
        registered_ms = F.when(F.col("day") == 0, F.floor(u_time * 55 * MINUTE_MS)) \
            .otherwise(F.floor(u_time * 20 * HOUR_MS))
        updated_ms = HOUR_MS + F.floor(u_time * (DAY_MS - HOUR_MS - 1))
        key = [F.col("id"), F.lit("user")]
        frame = (
            frame
            .withColumn("user", F.when(F.col("is_update"), updated_user).otherwise(F.col("id")))
            .withColumn("server_ms", day_start + F.when(F.col("is_update"), updated_ms)
                        .otherwise(registered_ms))
            .withColumn("event_type", F.when(F.col("is_update"), "user_updated")
                        .otherwise("user_registered"))
            .withColumn("event_id", world.hex_id("ev-", 16, "event", *key))
        )
        # Updates made by the backend (e.g. a suspension) come without a device.
        server_side = F.col("is_update") & (world.uniform("server_update", F.col("id")) < 0.3)
        return _finish(frame, _json(*world.user_fields("user", F.col("user"), F.col("id"))),
                       key, server_side)

    return build


def conversation_events(world: World) -> Callable[[DataFrame], DataFrame]:
    """`ids` = conversation indexes: conversation_created by member 0, then the joins."""

    def build(ids: DataFrame) -> DataFrame:
        c = F.col("conversation")
        frame = world.with_conversation(ids.select(F.col("id").alias("conversation")))
        day_start = F.lit(world.origin_ms) + F.col("c_birth").cast("long") * DAY_MS
        u_created = world.uniform("created", c)
        created_ms = day_start + F.when(
            F.col("c_birth") == 0, HOUR_MS + F.floor(u_created * 90 * MINUTE_MS)
        ).otherwise(F.floor(u_created * 20 * HOUR_MS))
        key = [c, F.col("k"), F.lit("conversation")]
        is_created = F.col("k") == 0
        frame = (
            frame
            .withColumn("day", F.col("c_birth"))
            .withColumn("k", F.explode(F.sequence(F.lit(0).cast("long"), F.col("c_size") - 1)))
            .withColumn("server_ms", created_ms + F.when(is_created, F.lit(0)).otherwise(
                F.col("k") * 20_000
                + F.floor(world.uniform("join_delay", c, F.col("k")) * 30 * MINUTE_MS)))
            .withColumn("user", world.member(F.col("k")))
            .withColumn("event_type", F.when(is_created, "conversation_created")
                        .otherwise("participant_joined"))
            .withColumn("event_id", world.hex_id("ev-", 16, "event", *key))
        )
        kind = F.col("c_type")
        name = (F.when(kind == "group", F.when(world.uniform("unnamed", c) < 0.1, F.lit(None))
                       .otherwise(text.pick(GROUP_NAMES, world.uniform("name", c))))
                .when(kind == "channel", F.format_string(
                    "%s %d", text.pick(CHANNEL_NAMES, world.uniform("name", c)),
                    world.below(90, "name_no", c) + 1))
                .otherwise(F.lit(None).cast("string")))
        encrypted_share = F.when(kind == "direct", 0.95).when(kind == "group", 0.7).otherwise(0.1)
        u_privacy = world.uniform("privacy", c)
        privacy = (F.when(kind == "direct", F.lit("private"))
                   .when(kind == "group", F.when(u_privacy < 0.7, "private").otherwise("members"))
                   .otherwise(F.when(u_privacy < 0.8, "public").otherwise("members")))
        u_meta = world.uniform("conversation_meta", c)
        metadata = F.try_parse_json(world.conversation_metadata(c, u_meta))
        created = _json(
            world.conversation_id(c).alias("conversation_id"),
            kind.alias("conversation_type"),
            name.alias("conversation_name"),
            (world.uniform("encrypted", c) < encrypted_share).alias("is_encrypted"),
            privacy.alias("privacy_level"),
            metadata.alias("metadata"),
        )
        role = F.when((F.col("k") == 1) & (kind != "direct"), "admin").otherwise("member")
        joined = _json(world.conversation_id(c).alias("conversation_id"), role.alias("role"))
        return _finish(frame, F.when(is_created, created).otherwise(joined), key, F.lit(False))

    return build


def churn_events(world: World) -> Callable[[DataFrame], DataFrame]:
    """`ids` 0..days*churn_per_day-1: a reader of a group or channel leaves, and most rejoin
    minutes to hours later (possibly the next day)."""

    def build(ids: DataFrame) -> DataFrame:
        day = F.floor(F.col("id") / world.churn_per_day).cast("int") + 1
        churn = F.col("churn")
        frame = (
            ids.select(F.col("id").alias("churn"), day.alias("day"))
            .where(F.col("day") < world.days)
            .withColumn("conversation", world.below(world.conversations_before(F.col("day")),
                                                    "churn_conversation", churn))
            .transform(world.with_conversation)
            .where(F.col("c_size") > F.col("c_talkers"))
        )
        readers = F.col("c_size") - F.col("c_talkers")
        key = [churn, F.col("step"), F.lit("churn")]
        frame = (
            frame
            .withColumn("k", F.col("c_talkers") + world.below(readers, "churn_member", churn))
            .withColumn("user", world.member(F.col("k")))
            .withColumn("step", F.explode(
                F.when(world.uniform("rejoins", churn) < 0.6, F.array(F.lit(0), F.lit(1)))
                .otherwise(F.array(F.lit(0)))))
            .withColumn("server_ms", F.lit(world.origin_ms)
                        + F.col("day").cast("long") * DAY_MS
                        + F.floor(world.uniform("left_at", churn) * DAY_MS)
                        + F.col("step") * F.floor(
                            10 * MINUTE_MS + world.uniform("rejoin_after", churn) * 20 * HOUR_MS))
            .withColumn("event_type", F.when(F.col("step") == 0, "participant_left")
                        .otherwise("participant_joined"))
            .withColumn("event_id", world.hex_id("ev-", 16, "event", *key))
        )
        # Removals by an admin are logged by the backend, without the member's device.
        conversation_id = world.conversation_id(F.col("conversation")).alias("conversation_id")
        left = _json(conversation_id)
        joined = _json(conversation_id, F.lit("member").alias("role"))
        return _finish(frame, F.when(F.col("step") == 0, left).otherwise(joined), key,
                       world.uniform("removed_by_admin", *key) < 0.1)

    return build


def _diurnal(u: Column) -> Column:
    """Spread [0, 1) over the day, fewer messages in the early UTC morning (monotone map)."""
    amplitude, quiet = 0.6, 0.15
    turn = 2 * math.pi
    return u + amplitude / turn * (F.sin(turn * (u - quiet)) + math.sin(turn * quiet))


def messages(world: World) -> Callable[[DataFrame], DataFrame]:
    """`ids` 0..days*messages_per_day-1 -> one row per message with its conversation, sender,
    time and seq (the only step that shuffles: seq is the position within the day)."""

    def build(ids: DataFrame) -> DataFrame:
        m = world.messages_per_day
        row = F.pmod(F.col("id"), F.lit(m))
        block = F.floor(row / BURST_BLOCK)
        day = F.floor(F.col("id") / m).cast("int")
        pattern_slot = (world.below(BURST_PATTERNS, "burst_pattern", day, block) * BURST_BLOCK
                        + F.pmod(row, F.lit(BURST_BLOCK)) + 1).cast("int")
        frame = ids.select(
            F.col("id").alias("message_no"), day.alias("day"), block.alias("block"),
            F.element_at(text.literal_array(BURST_POSITIONS), pattern_slot).alias("k"),
            F.element_at(text.literal_array(BURST_SEGMENTS), pattern_slot).alias("segment"),
        )
        # Rows of one burst share a conversation; popular conversations get most bursts.
        burst = [F.col("day"), F.col("block"), F.col("segment")]
        conversation = F.floor(world.conversations_before(F.col("day"))
                               * F.pow(world.uniform("burst_conversation", *burst), 2.2))
        frame = (frame.withColumn("conversation", conversation.cast("long"))
                 .transform(world.with_conversation))
        gap_s = 3 + F.pow(world.uniform("burst_gap", *burst), 2) * 900
        low_s = F.when(F.col("day") == 0, F.lit(4 * 3600.0)).otherwise(F.lit(0.0))
        high_s = 86_400 - (BURST_BLOCK + 1) * gap_s
        start_s = low_s + _diurnal(world.uniform("burst_start", *burst)) * (high_s - low_s)
        offset_s = start_s + (F.col("k") + world.uniform("jitter", F.col("message_no")) * 0.5) \
            * gap_s
        talkers = F.col("c_talkers")
        first = world.below(talkers, "first_sender", *burst)
        # Within a burst the sender changes at every message (a channel's owner posts alone).
        step = F.when(F.col("c_type") == "channel", F.lit(0)).otherwise(
            1 + world.below(F.greatest(talkers - 1, F.lit(1)), "sender_step", *burst))
        frame = (
            frame
            .withColumn("server_ms", F.lit(world.origin_ms) + F.col("day").cast("long") * DAY_MS
                        + F.floor(offset_s * 1000).cast("long"))
            .withColumn("sender_k", F.pmod(first + F.col("k") * step, talkers))
            .withColumn("topic_focus", world.below(len(TOPIC_NAMES), "focus",
                                                   F.col("conversation")))
        )
        position = F.row_number().over(
            Window.partitionBy("day", "conversation").orderBy("server_ms", "message_no"))
        seq = (F.col("day") - F.col("c_birth")).cast("long") * SEQ_DAY_STRIDE + position
        return frame.withColumn("seq", seq)

    return build


def message_id(world: World, message_no: Column) -> Column:
    return world.hex_id("m_", 16, "message_id", message_no)


def _with_text(world: World, frame: DataFrame) -> DataFrame:
    """Add `text` from message_no, message_type and topic_focus (intermediate columns keep
    the generated code of each step small)."""
    key = F.col("message_no")
    message_type = F.col("message_type")
    u_kind = world.uniform("text_kind", key)
    frame = frame.withColumn("_topic", F.when(world.uniform("topic_choice", key) < 0.65,
                                              F.col("topic_focus")).otherwise(
        world.below(len(TOPIC_NAMES), "topic_any", key)).cast("int"))
    topic = F.col("_topic")

    def sentence(tag: str) -> Column:
        return text.topic_sentence(topic, world.uniform(f"{tag}_template", key),
                                   world.uniform(f"{tag}_a", key), world.uniform(f"{tag}_b", key),
                                   world.uniform(f"{tag}_when", key),
                                   world.uniform(f"{tag}_who", key), world.uniform(f"{tag}_n", key))

    frame = frame.withColumn("_s1", sentence("s1")).withColumn(
        "_s2", F.when(world.uniform("text_shape", key) < 0.2, sentence("s2")))
    about_topic = F.when(F.col("_s2").isNull(), F.col("_s1")).otherwise(
        F.concat(F.col("_s1"), F.lit(". "), F.col("_s2")))
    prefix = F.when(world.uniform("prefix", key) < 0.15,
                    text.pick(text.PREFIXES, world.uniform("prefix_word", key))).otherwise("")
    suffix = F.when(world.uniform("suffix", key) < 0.25,
                    text.pick(text.SUFFIXES, world.uniform("suffix_word", key))).otherwise("")
    body = F.concat(prefix, about_topic, suffix)
    frame = frame.withColumn("_body", F.when(world.uniform("lowercase", key) < 0.2, F.lower(body))
                             .otherwise(body))
    body = F.col("_body")
    chat = F.when(u_kind < 0.42, text.small_talk(world.uniform("small_talk", key))) \
        .when(u_kind < 0.423, F.lit("")).otherwise(body)
    caption = F.when(world.uniform("caption", key) < 0.4,
                     F.when(world.uniform("caption_kind", key) < 0.5, body)
                     .otherwise(text.pick(text.CAPTIONS, world.uniform("caption_word", key))))
    message_text = (F.when(message_type.isin("text", "ephemeral_text"), chat)
                    .when(message_type.isin("image", "video", "file"), caption)
                    .when(message_type == "system",
                          text.pick(text.SYSTEM_TEXTS, world.uniform("system_text", key)))
                    .otherwise(F.lit(None).cast("string")))
    return frame.withColumn("text", message_text).drop("_topic", "_s1", "_s2", "_body")


def message_events(world: World) -> Callable[[DataFrame], DataFrame]:
    """Messages -> message_sent (plus client retries) and the status events of their sender
    (sent, failed) and of up to MAX_RECIPIENT_STATUSES recipients (delivered, read)."""

    def build(messages_frame: DataFrame) -> DataFrame:
        no = F.col("message_no")
        frame = (
            messages_frame
            .withColumn("message_type", weighted_pick(world.uniform("message_type", no),
                                                      MESSAGE_TYPES))
            .transform(lambda frame: _with_text(world, frame))
            .withColumn("recipients", F.when(F.col("message_type") == "system", F.lit(0))
                        .otherwise(F.least(F.col("c_size") - 1, F.lit(MAX_RECIPIENT_STATUSES))))
            .withColumn("has_retry", world.uniform("retry", no) < 0.02)
            .withColumn("slot", F.explode(F.sequence(F.lit(0), 2 + 2 * F.col("recipients"))))
        )
        slot = F.col("slot")
        u_sender_status = world.uniform("sender_status", no)
        recipient_no = F.floor((slot - 3) / 2)
        planted = world.experiment_variant(PLANTED_EXPERIMENT, F.col("conversation")) == PLANTED_VARIANT
        is_read = world.uniform("read", no) < F.when(planted, PLANTED_READ_SHARE).otherwise(READ_SHARE)
        reads = is_read & ((recipient_no == 0)
                           | (world.uniform("read", no, recipient_no) < OTHER_READERS_SHARE))
        # a reader's client has had the message delivered (its delivered status may still come late)
        delivered = (world.uniform("delivered", no, recipient_no) < DELIVERED_SHARE) | reads
        keep = (F.when(slot == 0, True).when(slot == 1, F.col("has_retry"))
                .when(slot == 2, (u_sender_status < 0.515) & (F.col("message_type") != "system"))
                .when(F.pmod(slot, F.lit(2)) == 1, delivered).otherwise(reads))
        u_delivery = world.uniform("delivery_delay", no, recipient_no)
        delivery_ms = F.when(u_delivery < 0.9, 200 + F.floor(u_delivery * 33_000)).otherwise(
            MINUTE_MS + F.floor(world.uniform("offline", no, recipient_no) * 20 * HOUR_MS))
        read_ms = delivery_ms + 1_000 + F.floor(
            F.pow(world.uniform("read_delay", no, recipient_no), 3) * 8 * HOUR_MS)
        after_ms = (F.when(slot == 0, F.lit(0))
                    .when(slot == 1, 500 + F.floor(world.uniform("retry_after", no) * 90_000))
                    .when(slot == 2, 50 + F.floor(world.uniform("sent_after", no) * 1_500))
                    .when(F.pmod(slot, F.lit(2)) == 1, delivery_ms)
                    .otherwise(read_ms))
        recipient_k = F.pmod(F.col("sender_k") + 1 + recipient_no, F.col("c_size"))
        is_sent = slot <= 1
        # a retry repeats the original's device and client clock reading
        actor_key = [no, F.col("actor_slot"), F.lit("message")]
        frame = (
            frame.where(keep)
            .withColumn("server_ms", F.col("server_ms") + after_ms.cast("long"))
            .withColumn("member_k", F.when(slot <= 2, F.col("sender_k")).otherwise(recipient_k))
            .withColumn("user", world.member(F.col("member_k")))
            .withColumn("event_type", F.when(is_sent, "message_sent").otherwise("message_status"))
            .withColumn("event_id", world.hex_id("ev-", 16, "event", no, slot, F.lit("message")))
            .withColumn("actor_slot", F.when(slot == 1, F.lit(0)).otherwise(slot))
        )
        # System messages come from the backend; some clients send no device block.
        no_device = ((F.col("message_type") == "system")
                     | (world.uniform("no_device", *actor_key) < 0.02))
        media = (F.when(F.col("message_type") == "image",
                        1 + F.floor(F.pow(world.uniform("media", no), 3) * 4))
                 .when(F.col("message_type").isin("video", "audio", "sticker"), 1)
                 .when(F.col("message_type") == "file", 1 + world.below(2, "media", no))
                 .otherwise(0)).cast("long")
        media_bytes = (F.when(F.col("message_type") == "video", 2_000_000)
                       .when(F.col("message_type") == "image", 150_000)
                       .when(F.col("message_type").isin("audio", "file"), 40_000)
                       .otherwise(8_000))
        size_bytes = (120 + F.coalesce(F.octet_length(F.col("text")), F.lit(0))
                      + media * F.floor(media_bytes * (0.2 + 3 * world.uniform("bytes", no))))
        reply_back = 1 + world.below(F.greatest(F.col("k"), F.lit(1)), "reply_back", no)
        reply_to = F.when((F.col("k") > 0) & (world.uniform("reply", no) < 0.22),
                          message_id(world, no - reply_back))
        u_meta = world.uniform("message_meta", no)
        metadata = (F.when(u_meta < 0.85, F.lit(None))
                    .when(u_meta < 0.9, F.create_map(F.lit("experiment"), F.lit("compose_v2")))
                    .when(u_meta < 0.95, F.create_map(F.lit("forwarded"), F.lit("true")))
                    .otherwise(F.create_map(F.lit("client_msg_id"),
                                            world.hex_id("", 12, "client_msg", no))))
        ids = [message_id(world, no).alias("message_id"),
               world.conversation_id(F.col("conversation")).alias("conversation_id")]
        sent = _json(
            *ids,
            F.col("message_type"),
            F.col("text"),
            media.alias("media_count"),
            size_bytes.cast("long").alias("size_bytes"),
            F.col("seq"),
            reply_to.alias("reply_to_message_id"),
            metadata.alias("metadata"),
        )
        status = (F.when(slot == 2, F.when(u_sender_status < 0.5, "sent").otherwise("failed"))
                  .when(F.pmod(slot, F.lit(2)) == 1, "delivered").otherwise("read"))
        status_line = _json(*ids, status.alias("status"))
        return _finish(frame, F.when(is_sent, sent).otherwise(status_line), actor_key, no_device,
                       is_retry=slot == 1)

    return build


def land(world: World) -> Callable[[DataFrame], DataFrame]:
    """Landing day, duplicate copies and the file of every line; lines landing after the last
    generated day are dropped (they would land in a folder that is not written)."""

    def build(events: DataFrame) -> DataFrame:
        eid = F.col("event_id")
        late_share = F.when(F.col("event_type") == "message_status", 0.04).otherwise(0.015)
        delay = F.when(world.uniform("late", eid) < late_share,
                       1 + world.below(MAX_LATE_DAYS, "late_days", eid)).otherwise(0)
        duplicated = world.uniform("duplicate", eid) < world.duplicate_rate
        copy_shift = F.when(world.uniform("duplicate_when", eid) < 0.55, F.lit(0)).otherwise(
            1 + world.below(2, "duplicate_days", eid))
        server_day = F.floor((F.col("server_ms") - world.origin_ms) / DAY_MS).cast("int")
        return (
            events
            .withColumn("delay", delay.cast("int"))
            .withColumn("copy", F.explode(F.when(duplicated, F.array(F.lit(0), F.lit(1)))
                                          .otherwise(F.array(F.lit(0)))))
            .withColumn("delay", F.when(F.col("copy") == 0, F.col("delay")).otherwise(
                F.least(F.col("delay") + copy_shift, F.lit(MAX_LATE_DAYS))))
            .withColumn("landing_day", (server_day + F.col("delay")).cast("int"))
            .where(F.col("landing_day") < world.days)
            .withColumn("dt", F.date_format(F.date_add(F.lit(world.start), F.col("landing_day")),
                                            "yyyy-MM-dd"))
            .withColumn("file", world.below(world.files_per_day, "file", eid, F.col("copy"))
                        .cast("int"))
            .withColumn("arrival_ms", F.col("server_ms") + F.col("delay").cast("long") * DAY_MS)
        )

    return build


def _by_type(event_type: Column, choices: dict[str, Column], otherwise: Column) -> Column:
    expr = otherwise
    for kind, value in choices.items():
        expr = F.when(event_type == kind, value).otherwise(expr)
    return expr


def corrupt(world: World) -> Callable[[DataFrame], DataFrame]:
    """Turn about `bad_rate` of the lines into bad records of each kind of raw-events.md;
    `bad_kind` names the kind (null for a good line)."""

    def build(lines: DataFrame) -> DataFrame:
        key = [F.col("event_id"), F.col("copy")]
        line = F.col("line")
        etype = F.col("event_type")
        is_message = etype == "message_sent"
        u = world.uniform("bad_variant", *key)
        chosen = F.element_at(text.literal_array(list(BAD_KINDS)),
                              (world.below(len(BAD_KINDS), "bad_kind", *key) + 1).cast("int"))
        kind = (F.when((chosen == "negative_count") & ~is_message, F.lit("wrong_type"))
                .when((chosen == "bad_value") & (etype == "participant_left")
                      & ~F.col("has_device"), F.lit("missing_field"))
                .otherwise(chosen))
        bad = world.uniform("bad", *key) < world.bad_rate

        def sub(pattern: str, replacement: str) -> Column:
            return F.regexp_replace(line, pattern, replacement)

        missing_specific = _by_type(etype, {
            "message_sent": sub(r',"seq":[0-9]+', ""),
            "message_status": sub(r',"status":"[a-z_]+"', ""),
            "conversation_created": sub(r',"is_encrypted":(true|false)', ""),
            "participant_joined": sub(r',"role":"[a-z]+"', ""),
            "participant_left": sub(r',"conversation_id":"[^"]*"', ""),
        }, sub(r',"account_type":"[a-z]+"', ""))
        missing = (F.when(u < 0.33, sub(r',"event_id":"[^"]*"', ""))
                   .when(u < 0.66, sub(r',"user_id":"[^"]*"', "")).otherwise(missing_specific))
        wrong_type = _by_type(etype, {
            "message_sent": F.when(u < 0.4, sub(r'"seq":([0-9]+)', '"seq":"$1"'))
            .when(u < 0.8, sub(r'"seq":([0-9]+)', '"seq":$1.5'))
            .otherwise(sub(r'"media_count":([0-9]+)', '"media_count":"$1"')),
            "conversation_created": F.when(u < 0.5, sub(r'"is_encrypted":(true|false)',
                                                        '"is_encrypted":"$1"'))
            .otherwise(sub(r'^\{"schema_version":1,', '{"schema_version":"1",')),
            "user_registered": sub(r'"is_test_account":(true|false)', '"is_test_account":"$1"'),
        }, F.when(u < 0.5, sub(r'^\{"schema_version":1,', '{"schema_version":"1",'))
            .otherwise(sub(r'"user_id":"(u_[0-9]+)"', '"user_id":["$1"]')))
        bad_value = _by_type(etype, {
            "message_sent": sub(r'"message_type":"[a-z_]+"', '"message_type":"gif"'),
            "message_status": sub(r'"status":"[a-z]+"', '"status":"seen"'),
            "conversation_created": sub(r'"conversation_type":"[a-z]+"',
                                        '"conversation_type":"broadcast"'),
            "participant_joined": sub(r'"role":"[a-z]+"', '"role":"moderator"'),
            "participant_left": sub(r'"network_type":"[a-z0-9_]+"', '"network_type":"satellite"'),
        }, sub(r'"account_type":"[a-z]+"', '"account_type":"enterprise"'))
        bad_timestamp = (
            F.when((u < 0.33) & F.col("has_client_ts"),
                   sub(r'"client_ts":"([0-9]{4}-[0-9]{2}-[0-9]{2})T[0-9]{2}', '"client_ts":"$1T27'))
            .when(u < 0.66, sub(r'"server_ts":"([0-9]{4})-([0-9]{2})-([0-9]{2})T([^"]*)Z"',
                                '"server_ts":"$3/$2/$1 $4"'))
            .otherwise(sub(r'"server_ts":"([0-9]{4}-[0-9]{2}-[0-9]{2})T[0-9]{2}',
                           '"server_ts":"$1T25'))
        )
        unknown = F.regexp_replace(line, r'"event_type":"[a-z_]+"', F.concat(
            F.lit('"event_type":"'), text.pick(UNKNOWN_EVENT_TYPES, u), F.lit('"')))
        negative = F.when(u < 0.5, sub(r'"media_count":[0-9]+', '"media_count":-1')) \
            .otherwise(sub(r'"size_bytes":[0-9]+', '"size_bytes":-2048'))
        truncated = F.substring(line, 1, F.greatest(
            F.floor(F.length(line) * (0.15 + 0.75 * u)), F.lit(1)).cast("int"))
        broken = (
            F.when(kind == "not_json", text.pick(GARBAGE_LINES, u))
            .when(kind == "truncated_json", truncated)
            .when(kind == "missing_field", missing)
            .when(kind == "wrong_type", wrong_type)
            .when(kind == "bad_value", bad_value)
            .when(kind == "bad_timestamp", bad_timestamp)
            .when(kind == "unknown_event_type", unknown)
            .when(kind == "schema_version_2", sub(r'^\{"schema_version":1,',
                                                  '{"schema_version":2,'))
            .otherwise(negative)
        )
        return (
            lines
            .withColumn("bad_kind", F.when(bad, kind))
            .withColumn("broken_line", F.when(bad, broken))
            # A mutation that did not apply would leave a good line counted as bad.
            .withColumn("unchanged_bad", F.coalesce(F.col("broken_line") == line, F.lit(False)))
            .withColumn("line", F.coalesce(F.col("broken_line"), line))
            .drop("broken_line")
        )

    return build
