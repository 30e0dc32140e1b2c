"""The event families: each turns a `spark.range` frame into events with the columns of
`world.EVENT_COLUMNS`, and `with_lines` adds the common fields of the finished JSON line."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.generator import text
from jobs.generator.world import (
    BURST_BLOCK,
    BURST_PATTERNS,
    BURST_POSITIONS,
    BURST_SEGMENTS,
    CHANNEL_NAMES,
    DAY_MS,
    DELIVERED_SHARE,
    GROUP_NAMES,
    HOUR_MS,
    JSON_OPTIONS,
    MAX_RECIPIENT_STATUSES,
    MESSAGE_TYPES,
    MINUTE_MS,
    OTHER_READERS_SHARE,
    PLANTED_EXPERIMENT,
    PLANTED_READ_SHARE,
    PLANTED_VARIANT,
    READ_SHARE,
    SEQ_DAY_STRIDE,
    World,
    weighted_pick,
)
from schemas.topics import TOPIC_NAMES


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
    """Add `text` from message_no, message_type, topic_focus and the conversation's language
    c_language (intermediate columns keep the generated code of each step small)."""
    key = F.col("message_no")
    language = F.col("c_language")
    message_type = F.col("message_type")
    u_kind = world.uniform("text_kind", key)
    frame = frame.withColumn("_topic", F.when(world.uniform("topic_choice", key) < 0.65,
                                              F.col("topic_focus")).otherwise(
        world.below(len(TOPIC_NAMES), "topic_any", key)).cast("int"))
    topic = F.col("_topic")

    def sentence(tag: str) -> Column:
        return text.topic_sentence(language, topic, world.uniform(f"{tag}_template", key),
                                   world.uniform(f"{tag}_a", key), world.uniform(f"{tag}_b", key),
                                   world.uniform(f"{tag}_when", key),
                                   world.uniform(f"{tag}_who", key), world.uniform(f"{tag}_n", key))

    frame = frame.withColumn("_s1", sentence("s1")).withColumn(
        "_s2", F.when(world.uniform("text_shape", key) < 0.2, sentence("s2")))
    about_topic = F.when(F.col("_s2").isNull(), F.col("_s1")).otherwise(
        F.concat(F.col("_s1"), F.lit(". "), F.col("_s2")))
    prefix = F.when(world.uniform("prefix", key) < 0.15,
                    text.prefix(language, world.uniform("prefix_word", key))).otherwise("")
    suffix = F.when(world.uniform("suffix", key) < 0.25,
                    text.suffix(language, world.uniform("suffix_word", key))).otherwise("")
    body = F.concat(prefix, about_topic, suffix)
    frame = frame.withColumn("_body", F.when(world.uniform("lowercase", key) < 0.2, F.lower(body))
                             .otherwise(body))
    body = F.col("_body")
    chat = F.when(u_kind < 0.42, text.small_talk(language, world.uniform("small_talk", key))) \
        .when(u_kind < 0.423, F.lit("")).otherwise(body)
    caption = F.when(world.uniform("caption", key) < 0.4,
                     F.when(world.uniform("caption_kind", key) < 0.5, body)
                     .otherwise(text.caption(language, world.uniform("caption_word", key))))
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


