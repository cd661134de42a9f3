"""The OS write fence around agent processes: a Landlock binding (`landlock.py`), the launcher
that restricts itself and execs the agent (`launch.py`), and the glue the backends and the
engine call (`fence.py`). The policy itself is pure: `swarmgit.domain.fence`."""
