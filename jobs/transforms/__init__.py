"""Pure DataFrame -> DataFrame functions, grouped by domain. No I/O here."""
