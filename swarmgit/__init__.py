"""swarmgit: `git swarm`, a git-native orchestrator for parallel AI coding agents."""

__version__ = "0.1.0"
