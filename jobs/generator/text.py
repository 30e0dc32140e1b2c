"""Vocabulary of the synthetic data generator: message text about the 16 topics plus small talk.

Written for chatlake's generator (not taken from the contract's examples). Templates hold
placeholders that `message_text` fills from per-topic word lists and shared lists:
{a} and {b} (topic words), {when}, {who}, {n}. Fillers carry accents, CJK and emoji so that
text is multi-byte UTF-8.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

from schemas.topics import TOPIC_NAMES

# topic -> (templates, {a} words, {b} words); every topic has non-empty word lists so that an
# index into them is always valid (ANSI mode fails on an out-of-range element_at).
TOPIC_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "food_and_dining": (
        (
            "anyone up for {a} {when}?",
            "tried a new recipe for {a} and it turned out amazing",
            "the {a} at that restaurant downtown was way too salty",
            "can you pick up {b} from the grocery store on your way",
            "dinner at my place {when}, I'm cooking {a}",
            "booked a table for four at the {a} restaurant {when}",
            "that {a} recipe needs much more {b} than it says",
            "I'm starving, thinking about ordering {a} for lunch",
        ),
        (
            "ramen", "lasagna", "pad thai", "sushi 寿司", "crème brûlée", "pão de queijo", "phở",
            "tacos al pastor", "paella", "dumplings 饺子", "shakshuka", "green curry",
        ),
        ("garlic", "olive oil", "eggs", "jalapeños", "basil", "rice", "oat milk", "coriander"),
    ),
    "travel": (
        (
            "our flight to {a} leaves {when}, don't forget your passport",
            "just landed in {a} ✈️ the airport is enormous",
            "the hotel in {a} upgraded us to a room with a view",
            "should we take the train or fly to {a}?",
            "packing for the trip to {a}, how cold is it there?",
            "sightseeing in {a} all day, my feet are done",
            "flight delayed {b}, stuck at the gate",
            "vacation photos from {a} coming soon 📸",
        ),
        (
            "Zürich", "São Paulo", "Kraków", "Reykjavík", "東京", "Lisbon", "Marrakech",
            "Montréal", "Kyoto", "Cape Town", "Dubrovnik", "Oaxaca",
        ),
        ("by two hours", "for the third time", "until midnight", "overnight"),
    ),
    "fitness_and_health": (
        (
            "went for a {a} run this morning, legs are sore",
            "gym {when}? I need a spotter for leg day",
            "the doctor says I need more sleep and less coffee",
            "new workout plan: {a} training three times a week",
            "I think I caught the flu, staying in bed to rest",
            "my {b} hurts after yesterday's workout",
            "day {n} of the new diet, no sugar so far 💪",
            "yoga class at the gym {when}, want to join?",
        ),
        ("5k", "10k", "interval", "trail", "easy recovery", "half marathon"),
        ("knee", "back", "shoulder", "ankle", "wrist"),
    ),
    "shopping": (
        (
            "the {a} I ordered finally got delivered",
            "big sale at the mall {when}, everything 40% off",
            "should I buy the {a} now or wait for the price to drop?",
            "my online order for the {a} has been stuck in delivery since Monday",
            "returned the {a}, the store gave me a full refund",
            "found {b} on discount for half the price 🛍️",
        ),
        (
            "sneakers", "winter jacket", "sofa", "backpack", "rain boots", "desk lamp",
            "linen shirt", "coffee table",
        ),
        ("a leather bag", "new running shoes", "a wool coat", "a rug", "a mirror"),
    ),
    "music": (
        (
            "have you heard the new {a} album? on repeat all day",
            "got tickets for the {a} concert {when} 🎶",
            "made a playlist for the road trip, mostly {b}",
            "this song is stuck in my head, the chorus is so catchy",
            "the band played for three hours, best live show ever",
            "learning {b} songs on the guitar",
        ),
        ("Beyoncé", "Rosalía", "BTS", "Daft Punk", "Sigur Rós", "Coldplay", "Björk", "Stromae"),
        ("jazz", "k-pop", "bossa nova", "indie rock", "lo-fi", "80s synth pop"),
    ),
    "movies_and_tv": (
        (
            "just finished season {n} of that series, no spoilers please",
            "want to see the new {a} film at the cinema {when}?",
            "the last episode ended on a huge cliffhanger 😱",
            "what should we stream tonight? I'm in the mood for {b}",
            "that movie was too long but the ending was great",
            "binge-watched the whole show in one weekend",
        ),
        ("Miyazaki", "Almodóvar", "Nolan", "Marvel", "Pixar", "Bong Joon-ho"),
        ("a documentary", "a horror movie", "a rom-com", "an anime series", "a crime drama"),
    ),
    "gaming": (
        (
            "who's online for a multiplayer match {when}? 🎮",
            "finally beat the final boss in {a}",
            "stuck on level {n} of {a}, any tips?",
            "my console keeps crashing in the middle of the game",
            "the new {a} patch nerfed my favorite character",
            "ranked matches went terrible, we lost every round",
        ),
        ("Zelda", "Elden Ring", "Minecraft", "Fortnite", "Mario Kart", "Hades"),
        ("co-op", "split-screen", "online", "speedrun", "ranked"),
    ),
    "sports": (
        (
            "did you watch the match last night? what a goal ⚽",
            "{a} won 3-1, the league title is within reach",
            "our team lost again, the coach has to go",
            "tickets for the {a} game {when}, who's in?",
            "that player scored twice in the second half",
            "the final score was unbelievable, it went to overtime",
        ),
        (
            "Barcelona", "the Lakers", "Flamengo", "Bayern München", "the Yankees",
            "Galatasaray", "the All Blacks",
        ),
        ("the derby", "the playoffs", "the cup final", "the season opener"),
    ),
    "meetings_and_scheduling": (
        (
            "can we move our meeting to {when}?",
            "I'll send a calendar invite for the call at {b}",
            "running 10 minutes late to the meeting, start without me",
            "let's reschedule the sync, the agenda isn't ready yet",
            "are you free for a quick call {when}?",
            "the meeting notes and agenda are in the shared doc",
        ),
        ("standup", "sync", "1:1", "planning meeting", "retro"),
        ("9:30", "11:00", "14:15", "4pm", "noon"),
    ),
    "projects_and_deadlines": (
        (
            "the deadline for the {a} is {when} and we're behind",
            "pushed the release to {when}, QA found blockers",
            "can you review my {a} before the deadline?",
            "task board is updated, three deliverables left this sprint",
            "we shipped the {a} on time 🎉 great work team",
            "the milestone review slipped again, we need to prioritize tasks",
        ),
        (
            "quarterly report", "design mockups", "project proposal", "budget draft",
            "migration plan", "client deliverable",
        ),
        ("release", "milestone", "sprint", "launch"),
    ),
    "jobs_and_careers": (
        (
            "I have a job interview at {a} {when}, wish me luck",
            "got the offer! the salary is way better",
            "updating my resume, can you take a look?",
            "they're hiring a senior {b}, want me to refer you?",
            "my manager mentioned a promotion at the next review",
            "second interview went well, now waiting on the recruiter",
        ),
        ("a startup", "the bank", "a design agency", "the hospital", "a game studio"),
        ("engineer", "designer", "product manager", "data analyst", "nurse"),
    ),
    "software_and_apps": (
        (
            "the app keeps crashing since the latest update",
            "found a bug on the login page, password reset doesn't work",
            "did you install the new version of {a}?",
            "my code finally compiles, only took all afternoon 😅",
            "the website is down again, I get a 500 error",
            "I reset my account password and still can't log in to {a}",
        ),
        ("the banking app", "Photoshop", "the calendar app", "VS Code", "the tracker app"),
        ("iOS", "Android", "the browser", "Windows"),
    ),
    "gadgets_and_devices": (
        (
            "my phone battery is dead by lunchtime now",
            "thinking of buying {a}, any recommendations?",
            "left my laptop charger at the office 🤦",
            "the new {a} has an amazing screen",
            "my headphones stopped charging, one earbud is dead",
            "cracked the screen on my tablet again",
        ),
        (
            "noise-cancelling headphones", "a smartwatch", "a gaming laptop", "an e-reader",
            "a new phone", "wireless earbuds",
        ),
        ("USB-C cable", "power bank", "keyboard", "monitor"),
    ),
    "money_and_payments": (
        (
            "I paid the rent, you owe me {a}",
            "can you transfer me your share of the bill?",
            "splitting the cost of {b}, it's {a} each",
            "the electricity bill is much higher this month",
            "sent you the payment, check your bank account",
            "we need to stick to the budget this month 💸",
        ),
        ("€45", "$120", "£30", "¥3,000", "R$80", "₹1,500"),
        ("the cabin", "the taxi", "the internet bill", "the car rental"),
    ),
    "family_and_friends": (
        (
            "mom wants everyone to come over {when}",
            "my sister just had a baby girl 👶",
            "the kids have a school play {when}, grandma is coming",
            "haven't seen you in ages, let's catch up soon",
            "visiting my parents {when}, back on Monday",
            "my brother and his wife are staying with us this week",
        ),
        ("grandpa", "my cousins", "the neighbours", "my aunt"),
        ("the kids", "my parents", "my in-laws"),
    ),
    "celebrations": (
        (
            "happy birthday {who}!! 🎂🎉",
            "what gift should we get for the wedding?",
            "party at our place {when}, bring friends",
            "merry Christmas and happy holidays everyone 🎄",
            "planning a surprise party for {who}'s birthday, don't tell",
            "congrats on the engagement!! when is the wedding? 💍",
        ),
        ("birthday", "anniversary", "graduation"),
        ("cake", "balloons", "decorations"),
    ),
}
assert tuple(TOPIC_PHRASES) == TOPIC_NAMES, "one entry per topic of schemas/topics.py, same order"

SMALL_TALK: tuple[str, ...] = (
    "ok", "okay", "haha", "hahaha", "lol", "👍", "😂😂", "❤️", "🙏", "yes", "no worries",
    "thanks!", "good morning ☀️", "good night", "see you", "sure", "on my way", "where are you?",
    "call me when you can", "merci !", "gracias 😊", "ありがとう", "好的", "d'accord", "😅",
    "🎉🎉🎉", "hmm", "brb", "what time?", "sounds good", "k", "nice!", "omg", "can't wait",
    "same here", "wait what?", "👀", "🔥🔥", "tudo bem?", "já volto", "danke schön",
)
WHEN: tuple[str, ...] = (
    "tomorrow", "tonight", "on Friday", "this weekend", "next week", "on Sunday morning",
    "after work", "later today",
)
WHO: tuple[str, ...] = (
    "Ana", "José", "Zoë", "Björn", "Chloé", "Ming", "Priya", "Łukasz", "Siobhán", "Nuno",
    "さくら", "Mehmet",
)
PREFIXES: tuple[str, ...] = ("hey ", "btw ", "so ", "ok so ", "Hi! ", "omg ", "fyi ", "ugh ")
SUFFIXES: tuple[str, ...] = (" 😂", " 👍", " 🙏", "!!", " 🎉", " lol", " ❤️", " 😅", " 🤔", " 😊")
SYSTEM_TEXTS: tuple[str, ...] = (
    "pinned a message", "changed the group photo", "turned on disappearing messages",
    "changed the group description",
)
CAPTIONS: tuple[str, ...] = ("look at this", "📷", "here you go", "from yesterday", "😍")

_TEMPLATES = [t for templates, _, _ in TOPIC_PHRASES.values() for t in templates]
_A_WORDS = [w for _, words, _ in TOPIC_PHRASES.values() for w in words]
_B_WORDS = [w for _, _, words in TOPIC_PHRASES.values() for w in words]


def _offsets(sizes: list[int]) -> list[int]:
    offsets, total = [], 0
    for size in sizes:
        offsets.append(total)
        total += size
    return offsets


_TEMPLATE_COUNTS = [len(t) for t, _, _ in TOPIC_PHRASES.values()]
_A_COUNTS = [len(a) for _, a, _ in TOPIC_PHRASES.values()]
_B_COUNTS = [len(b) for _, _, b in TOPIC_PHRASES.values()]


def _sql_literal(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@functools.lru_cache(maxsize=256)
def _literal_array(values: tuple[str | int, ...]) -> Column:
    # One parsed expression instead of one Python-to-JVM call per element: the generator
    # uses lookup tables of a thousand entries and more.
    return F.expr(f"array({', '.join(_sql_literal(v) for v in values)})")


def literal_array(values: Sequence[str] | Sequence[int]) -> Column:
    return _literal_array(tuple(values))


def pick(values: Sequence[str], uniform: Column) -> Column:
    """The element of `values` at the position `uniform` in [0, 1) falls on."""
    index = F.least(F.floor(uniform * len(values)), F.lit(len(values) - 1)).cast("int") + 1
    return F.element_at(literal_array(values), index)


def _in_topic(counts: list[int], topic: Column, uniform: Column) -> Column:
    """1-based index into a flattened per-topic list: the topic's offset plus a pick within."""
    position = (topic + 1).cast("int")
    offset = F.element_at(literal_array(_offsets(counts)), position)
    count = F.element_at(literal_array(counts), position)
    return (offset + F.least(F.floor(uniform * count), count - 1) + 1).cast("int")


def topic_sentence(topic: Column, u_template: Column, u_a: Column, u_b: Column,
                   u_when: Column, u_who: Column, u_n: Column) -> Column:
    """A sentence about `topic` (0-based index into TOPIC_NAMES), placeholders filled."""
    template = F.element_at(literal_array(_TEMPLATES), _in_topic(_TEMPLATE_COUNTS, topic, u_template))
    filled = F.replace(template, F.lit("{a}"), F.element_at(literal_array(_A_WORDS),
                                                            _in_topic(_A_COUNTS, topic, u_a)))
    filled = F.replace(filled, F.lit("{b}"), F.element_at(literal_array(_B_WORDS),
                                                          _in_topic(_B_COUNTS, topic, u_b)))
    filled = F.replace(filled, F.lit("{when}"), pick(WHEN, u_when))
    filled = F.replace(filled, F.lit("{who}"), pick(WHO, u_who))
    return F.replace(filled, F.lit("{n}"), (F.floor(u_n * 8) + 2).cast("string"))


def small_talk(uniform: Column) -> Column:
    return pick(SMALL_TALK, uniform)
