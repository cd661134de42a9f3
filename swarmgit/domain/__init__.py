"""The pure domain: plan, touches and locks, scheduler, spawn rules, cost. No I/O here."""
