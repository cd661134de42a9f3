"""`python -m swarmgit` is `git swarm`."""

from swarmgit.cli import run

run()
