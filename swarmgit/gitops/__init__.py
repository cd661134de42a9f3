"""The git layer, through pygit2: repositories, worktrees, branches, in-memory merges, diffs."""
