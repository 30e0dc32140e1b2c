"""The synthetic data generator behind `generate`: users, devices, conversations, messages and their events.

Everything is a deterministic function of (seed, ids): every random choice is a hash of the seed,
a tag naming the choice and the ids it depends on, so that a row can be computed on its own,
without joins, and the same seed gives the same events. The world starts on the first generated
day (`World.start`): day 0 registers the initial users and creates the initial conversations.

Each event family turns a `spark.range` frame into events with the columns of `EVENT_COLUMNS`:
`line` is the finished JSON line (raw-events.md); the other columns steer lateness, duplicates
and bad records in `land` and `corrupt`.

Modules: `world` (the deterministic world: ids, users, devices, conversations, experiments),
`events` (the event families and their JSON lines), `corruptions` (what transport does to
events: late days, duplicates and bad records) and `text` (message text about the topics).
"""
