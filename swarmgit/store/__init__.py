"""The run-state store: one SQLite database in the git common dir (WAL). Edge layer."""
