"""Hook entry scripts installed by `git swarm init` (installed as swarmgit.hooks)."""
