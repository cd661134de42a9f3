"""The OS write fence around agent processes: a Landlock binding (`landlock.py`), the glue the
backends and the engine call (`fence.py`: a process started from a thread that restricts only
itself), and the launcher that restricts itself and execs, for tools that start the agent's
program themselves (`launch.py`). The policy itself is pure: `swarmgit.domain.fence`."""
