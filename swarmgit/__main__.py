"""`python -m swarmgit` is `git swarm`."""
from swarmgit.cli import main

main(prog_name="git swarm")
