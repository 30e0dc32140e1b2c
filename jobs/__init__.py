"""chatlake: Spark jobs from raw messaging events to a private, erasable Delta star schema."""
