"""Agent backends: one module each, one Protocol (base.Agent), one registry (registry.py)."""
