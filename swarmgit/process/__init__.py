"""Child processes: run one under a deadline in its own process group, stop a group, and tell
whether a process id still names the process that held it. Below the backends, the gates and
the store, which all start or watch processes; above the sandbox (a fenced command's argv)."""
