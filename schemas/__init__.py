"""chatlake's schemas: the raw event format and every table, declared once."""
