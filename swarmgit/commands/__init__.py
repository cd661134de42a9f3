"""One module per user command: plain functions that take values and return exit codes."""
