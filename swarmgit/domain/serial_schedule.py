"""Serial schedules: place tasks one at a time, each at the earliest minute it fits.

The dispatcher (`dispatch_rule.Board`) never leaves a slot idle unless told to, so on its own it
cannot reach schedules where a task waits on purpose for a lock or a slot that a more critical
task is about to need. A serial schedule can: given a list of tasks (each after its deps), it
puts each at the earliest start where its deps are finished, a slot of its kind is free for its
whole effort and no conflicting task runs, whatever was placed later in time. Every list gives
such an "active" schedule, and some list gives a shortest one; `priority.py` searches lists and
turns the best schedule it finds into an order plus reservations for the dispatcher.

Justification (`justified`) improves a schedule: place the tasks again on a reversed clock,
latest finishers first (each as late as it can go), then forwards in the order of those starts.
The result is never longer (a standard forward-backward improvement for resource-constrained
project scheduling).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Sequence

from swarmgit.domain.dispatch_rule import Limits, PlanIndex


class Placer:
    """Serial schedules of one plan (or of its reversal, for the backward half)."""

    def __init__(self, index: PlanIndex) -> None:
        self.index = index
        self.own: list[int] = []  # per task: a bit per touch it holds
        self.hit: list[int] = []  # per task: a bit per touch that conflicts with one of its own
        for touches in index.touches:
            own = hit = 0
            for touch in touches:
                own |= 1 << touch
                for other in index.conflicting[touch]:
                    hit |= 1 << other
            self.own.append(own)
            self.hit.append(hit)

    def place(self, order: Sequence[int], limits: Limits) -> list[int]:
        """Start minute of each task, placing them in `order` (every task after its deps).
        Raises ValueError if the limits leave no slot for some task's kind.

        The placed tasks are kept as a profile of segments [times[k], times[k + 1]) with the
        tasks running there: how many, how many in the foreground, and a bit per touch held.
        """
        index, own, hit = self.index, self.own, self.hit
        times, total, front, held = [0], [0], [0], [0]
        start = [0] * len(index.effort)
        end = [0] * len(index.effort)
        for task in order:
            effort, foreground, blocked = index.effort[task], index.foreground[task], hit[task]
            cap = limits.max_foreground if foreground else limits.max_background
            if min(cap, limits.max_parallel) < 1:
                raise ValueError(f"no slot for task {index.ids[task]} under {limits}")
            at = max((end[d] for d in index.deps[task]), default=0)
            k = bisect.bisect_right(times, at) - 1
            while True:  # the last segment is empty, so this ends
                fits = (
                    total[k] < limits.max_parallel
                    and not held[k] & blocked
                    and (front[k] if foreground else total[k] - front[k]) < cap
                )
                if not fits:
                    k += 1
                    at = times[k]
                elif k + 1 == len(times) or times[k + 1] >= at + effort:
                    break
                else:
                    k += 1
            start[task], end[task] = at, at + effort
            if effort:
                for bound in (at, at + effort):  # split the segments at both ends
                    k = bisect.bisect_right(times, bound) - 1
                    if times[k] != bound:
                        times.insert(k + 1, bound)
                        for column in (total, front, held):
                            column.insert(k + 1, column[k])
                k = bisect.bisect_left(times, at)
                while times[k] < at + effort:
                    total[k] += 1
                    front[k] += foreground
                    held[k] |= own[task]
                    k += 1
        return start


def listed(index: PlanIndex, key: Sequence[object]) -> list[int]:
    """Tasks each after its deps; among those whose deps are listed, the smallest key first."""
    waiting = [len(deps) for deps in index.deps]
    heap = [(key[i], i) for i, count in enumerate(waiting) if not count]
    heapq.heapify(heap)
    order = []
    while heap:
        _, task = heapq.heappop(heap)
        order.append(task)
        for j in index.dependents[task]:
            waiting[j] -= 1
            if not waiting[j]:
                heapq.heappush(heap, (key[j], j))
    return order


def makespan(index: PlanIndex, start: Sequence[int]) -> int:
    return max((s + e for s, e in zip(start, index.effort)), default=0)


def justified(forward: Placer, backward: Placer, start: Sequence[int], limits: Limits) -> list[int]:
    """`start` placed again backwards (latest finishers first), then forwards (earliest of
    those starts first); never longer than `start`. `backward` places the reversed plan."""
    effort = forward.index.effort
    ends = [s + e for s, e in zip(start, effort)]
    late = backward.place(listed(backward.index, [(-e, -s) for s, e in zip(start, ends)]), limits)
    # A backward start b on the reversed clock is a forward end at -b, so a start at -b - effort.
    return forward.place(listed(forward.index, [-b - e for b, e in zip(late, effort)]), limits)
