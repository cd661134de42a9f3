"""The one shape of a run's event sink.

`emit(kind, message, task)`: what the live run, the integrator, spawning and the commands
report as they go (`task` is None for the track as a whole). The store logs events and the
terminal shows them through sinks of this type; `swarmgit.backends.base.AgentEvents` is the
agent's narrower view, whose events the dispatcher files under the agent's task.
"""

from __future__ import annotations

from collections.abc import Callable

EventSink = Callable[[str, str, "str | None"], None]
