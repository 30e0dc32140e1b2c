"""The synthetic world: constants, the seeded hash behind every choice, users, devices,
conversations and their members, experiments (see the package docstring)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.generator import text

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
CONVERSATION_TYPES_FIRST = ("group", "direct", "channel")
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
        (members who send messages; the others only read, and may leave and rejoin),
        c_language (0-based index into text.LANGUAGES).

        The language belongs to the conversation, not to its users: the members of a chat
        share a language and write in it, while one person can hold chats in several (a
        Spanish family group, an English team chat). A language per user would have every
        direct chat between two users of different languages switch language at each reply,
        which chats rarely do. Drawn with text.LANGUAGE_WEIGHTS, so those are shares of
        conversations; shares of messages follow them in a large world and wander in a small
        one, where a few popular conversations carry most messages."""
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
            .withColumn("c_language", weighted_index(
                self.uniform("conversation_language", c),
                [weight for _, weight in text.LANGUAGE_WEIGHTS]).cast("int"))
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


