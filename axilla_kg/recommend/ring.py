"""A byte ring a batch worker shares with its parent: new answer tails cross in shared memory.

A worker sends the parent each distinct tail once (:mod:`axilla_kg.recommend.workers`); on a varied
batch that is some 285 MB for 200,000 lines. Through the pipe every byte was pickled, written to the
pipe, read from it and unpickled: four copies and a fresh buffer per reply. Here the worker copies a
tail into a ring of shared memory (mapped before the fork, so both processes see the same pages)
and the pipe carries only its place; the parent copies it out when it reads the reply. The pages
are reused, so after the first lap no copy faults a new page in.

Which bytes may be overwritten is the parent's to say: each request it sends carries how many of the
worker's replies it has read (:meth:`Ring.start_reply`), and the worker writes only over the tails
of those. A tail with no room (a reply larger than the ring's free part) goes through the pipe as
before, so the ring bounds memory and never blocks.
"""

from __future__ import annotations

import mmap
from collections import deque

#: the bytes of each worker's ring: a varied block's new tails are about 3 MB a worker, and two
#: replies may be unread at once (one block in flight, one being read); shared, so counted once in
#: the process tree's proportional memory (PSS)
RING_BYTES = 16 << 20


class Ring:
    """One worker's ring. The writer's state (:meth:`start_reply`, :meth:`put`) is the worker's
    copy; the parent only reads (:meth:`get`)."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size = RING_BYTES if size is None else size
        self.memory = mmap.mmap(-1, size)  # anonymous and shared: the forked worker writes these pages
        self.head = 0  # where the next tail goes
        self.replies = 0  # replies started by the writer (the current one is number replies - 1)
        #: (reply number, where its first tail went) of the replies the parent may not have read
        self.unread: deque[tuple[int, int]] = deque()

    def start_reply(self, read: int) -> None:
        """A new reply: the parent has read ``read`` of the replies so far (their bytes are free)."""
        unread = self.unread
        while unread and unread[0][0] < read:
            unread.popleft()
        self.replies += 1

    def put(self, data: bytes) -> int | None:
        """Copy ``data`` into the ring; its place, or None when the free part has no room for it."""
        n = len(data)
        oldest = self.unread[0][1] if self.unread else None
        head = self.head
        if oldest is None:  # nothing unread: start from the beginning
            at: int | None = 0 if n <= self.size else None
        elif head >= oldest:  # the unread bytes run from oldest to head
            at = head if head + n <= self.size else 0 if n < oldest else None
        else:  # wrapped: free from head up to oldest
            at = head if head + n < oldest else None
        if at is None:
            return None
        self.memory[at : at + n] = data
        self.head = at + n
        current = self.replies - 1
        if not self.unread or self.unread[-1][0] != current:  # the current reply's first tail
            self.unread.append((current, at))
        return at

    def get(self, at: int, n: int) -> bytes:
        """A copy of the ``n`` bytes at ``at`` (the parent's side); a place outside the ring is a
        ValueError (the worker that named it is then treated as lost)."""
        if at < 0 or n <= 0 or at + n > self.size:
            raise ValueError(f"no tail of {n} bytes at {at} in a ring of {self.size}")
        return self.memory[at : at + n]

    def close(self) -> None:
        self.memory.close()
