"""The fence launcher: restricts itself with Landlock, then execs the agent command.

    python -I -S launch.py [--required] [--write PATH]... -- COMMAND [ARG]...

COMMAND (found on PATH) and everything it starts may read anything but write only below the
PATHs. When the kernel has no Landlock (too old, disabled, not Linux), COMMAND runs unfenced,
unless --required: then nothing runs and the exit code is 126 with the reason on stderr. Any
other failure to apply the fence refuses too, whatever the mode: it never runs half-fenced.

It runs before every agent process, so it imports only os, sys and ctypes (`python -I -S`
keeps site-packages and the user's environment out; see benchmarks/bench_fence.py).
"""

import os
import sys

TYPE_CHECKING = False  # no `typing` import here: it costs the launcher milliseconds
if __package__ or TYPE_CHECKING:  # imported as swarmgit.sandbox.launch (tests, type checks)
    from swarmgit.sandbox import landlock
else:  # run as a file: `python -I` leaves its folder off sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import landlock

REFUSED = 126
NOT_FOUND = 127
USAGE = "usage: launch.py [--required] [--write PATH]... -- COMMAND [ARG]..."


def parse(argv: list[str]) -> tuple[bool, list[str], list[str]]:
    """(required, writable paths, command); ValueError on a malformed command line."""
    required = False
    paths: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            if not rest:
                break
            return required, paths, rest
        if arg == "--required":
            required = True
        elif arg == "--write" and rest:
            paths.append(rest.pop(0))
        else:
            break
    raise ValueError(USAGE)


def main(argv: list[str]) -> int:
    try:
        required, paths, command = parse(argv)
    except ValueError as exc:
        print(f"swarmgit fence: {exc}", file=sys.stderr)
        return 2
    try:
        landlock.restrict_writes(paths)
    except OSError as exc:  # LandlockError, or a path that cannot be opened
        if landlock.must_refuse(exc, required):
            print(
                f"swarmgit fence: refusing to run the agent without its write fence: {exc}", file=sys.stderr
            )
            return REFUSED
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"swarmgit fence: cannot run {command[0]}: {exc}", file=sys.stderr)
    return NOT_FOUND


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
