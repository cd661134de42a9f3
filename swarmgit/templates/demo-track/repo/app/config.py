"""Settings read from the environment."""

import os

LOOKUP_DELAY_SECONDS = float(os.environ.get("LOOKUP_DELAY_SECONDS", "0.01"))
