"""Known CLI agents, one module each (pre-commit's languages pattern): each defines a `PRESET`
(`base.Preset`: command template, model spelling, environment, cache folders, output parser);
`all.PRESETS` is the registry `agent.command = "<name>"` looks names up in.
"""
