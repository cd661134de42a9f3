"""The engine: runs a track against the real repository. It drives the pure domain (plan,
scheduler, spawn) and the edges (git layer, store, agent backends, gates)."""
