"""weather-svc: forecasts by city."""
