"""The byte ring a batch worker shares with its parent (recommend/ring.py): no tail the parent has
not read is ever overwritten, and every tail placed reads back as its bytes.

The protocol is modelled as batch mode runs it: the worker starts a reply with how many replies the
parent has read, puts that reply's new tails, and the parent reads replies in order, at most
``lag`` behind. Hypothesis draws the tail sizes (from empty-ish to larger than the ring), the bytes
and the lag; the expectation is the tails themselves, kept aside."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from axilla_kg.recommend.ring import Ring

SIZE = 4096

replies = st.lists(st.lists(st.integers(min_value=1, max_value=SIZE + 100), max_size=8), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(replies, st.integers(min_value=0, max_value=2), st.randoms(use_true_random=False))
def test_no_unread_tail_is_overwritten_and_each_reads_back(sizes: list[list[int]], lag: int, rng) -> None:
    ring = Ring(SIZE)
    read = 0
    unread: list[list[tuple[int, bytes]]] = []  # per reply not read yet: (place, bytes) of its ring tails
    for reply in sizes:
        ring.start_reply(read)
        mine: list[tuple[int, bytes]] = []
        for n in reply:
            data = rng.randbytes(n)
            at = ring.put(data)
            if at is None:
                # (the pipe carries it)
                assert n > SIZE or unread or mine  # an empty ring takes any tail that fits in it
                continue
            assert at >= 0 and at + n <= SIZE
            mine.append((at, data))
            for earlier in [*unread, mine]:  # nothing unread was overwritten by this put
                for place, kept in earlier:
                    assert ring.get(place, len(kept)) == kept
        unread.append(mine)
        while len(unread) > lag:  # the parent reads the oldest replies
            for place, kept in unread.pop(0):
                assert ring.get(place, len(kept)) == kept
            read += 1
    ring.close()


def test_an_empty_ring_starts_at_its_beginning_and_a_read_reply_frees_its_bytes() -> None:
    ring = Ring(100)
    ring.start_reply(0)
    assert ring.put(b"a" * 60) == 0
    assert ring.put(b"b" * 60) is None  # (40 bytes left, and the first 60 are not read)
    ring.start_reply(0)  # the parent has read nothing yet
    assert ring.put(b"c" * 30) == 60
    ring.start_reply(1)  # the first reply was read: its 60 bytes are free, the second's are not
    assert ring.put(b"d" * 50) == 0
    assert ring.get(60, 30) == b"c" * 30
    assert ring.put(b"e" * 20) is None  # (it would run into the unread second reply)
    ring.close()


def test_a_place_outside_the_ring_is_refused() -> None:
    ring = Ring(100)
    for at, n in ((-1, 10), (95, 10), (0, 0), (100, 1)):
        try:
            ring.get(at, n)
        except ValueError:
            continue
        raise AssertionError((at, n))
    ring.close()
