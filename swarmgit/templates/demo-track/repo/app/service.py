"""Forecast lookups (slow: each call waits on the upstream)."""

import time

from app.config import LOOKUP_DELAY_SECONDS

FORECASTS = {"oslo": "snow", "lisbon": "sun", "lima": "fog"}


def forecast(city: str) -> str:
    """The forecast for a city, or 'unknown'."""
    time.sleep(LOOKUP_DELAY_SECONDS)
    return FORECASTS.get(city.lower(), "unknown")
