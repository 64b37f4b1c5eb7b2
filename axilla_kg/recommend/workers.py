"""Batch mode's worker processes: the answers of new classes of case computed on every core.

On a realistic batch most of the time goes into classes of case met for the first time (a varied
200,000-line extract holds about 100,000 of them; :mod:`axilla_kg.recommend.classanswers`), and
that work is independent from class to class. So with ``jobs`` > 1 the parent process still reads,
keys, looks up and writes every line, in input order, and holds every class's tail; only the keys
of the classes it has not met go to the workers, each class to one worker, which checks it against
the contract's rules between fields and answers it with its own copy of the compiled parts (a
block's share as a lot: :meth:`ClassAnswers.tails`) and sends the tail back. The parent remembers
every tail, so a class is answered once per run, as in one process.

Which worker: what a worker learns once and reuses (topic shares, sets of open variants, the next
question's scores) depends mostly on the fields the most variants test (the clinical question,
sex, imaging step, breast cancer: :func:`routing_positions`, read from the definitions), so the
classes that agree on those go to the same worker, and each worker learns its own part of the
parts. Measured on the varied mix (two workers, 200,000 lines): 6.8-7.0 CPU-s in the workers
routed so, 7.9 routed by the whole key's hash (every worker learning nearly every part). A value
of those fields met for the first time goes to the least loaded worker (the CPU time each reports,
and what is queued with it); one more than :data:`REBALANCE` times as loaded as the least loaded
gives up its values as they come again (a run of one kind of case still uses every worker). (Issue
14's fork ring gave each worker every block in turn, back when a new class cost half a
millisecond: it was slower than one process.)

* Pipelined one block deep: the parent sends block *N*'s new classes, then finishes block *N-1*
  (its tails back, its lines written) and reads block *N+1* while the workers answer *N*.
* Forked after the graph is loaded (copy-on-write: a worker starts at once, with what the parent
  has learned), and only when a second block comes (read before the first is answered, so the
  workers answer the first block's classes too): a small input is answered in this process. The
  parent numbers the fields' classes as it keys lines, after the fork too: each share of keys
  goes with the classes the worker has not heard of (:func:`new_members`).
* A new tail crosses once per worker, in a ring of shared memory mapped before the fork
  (:mod:`axilla_kg.recommend.ring`): the pipe carries its place, and a repeat its number. Through
  the pipe alone every byte was pickled, written, read and unpickled: 0.83 CPU-s of the 200,000
  varied lines' 285 MB of tails, 0.54 with the ring.
* A worker that dies (killed, out of memory) is not fatal: the parent answers its classes itself
  and stops sending it any; the output is the same bytes.
* Ctrl-C is the parent's: the workers ignore SIGINT, and the parent stops them whatever way it
  leaves (:meth:`Workers.stop`). A worker whose parent is gone finds its pipe closed and exits.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from axilla_kg.recommend.classanswers import ClassAnswers
from axilla_kg.recommend.partition import Key, picker
from axilla_kg.recommend.ring import Ring

Tails = list[bytes | None]
#: what a worker's reply holds per class: its tail (sent through the pipe), the number of a tail sent
#: before, the place of a tail in the worker's ring (where, how many bytes), or None (the strict path)
Item = bytes | int | tuple[int, int] | None
#: the most workers started by default: each holds its own compiled parts (a few hundred MB at most),
#: and more than four were never measured
MAX_DEFAULT_JOBS = 4
#: the bytes of distinct tails a worker numbers before it starts again (:class:`_Replies`)
MAX_SENT_BYTES = 64 << 20
#: a worker this many times as loaded as the least loaded one gets no more new routes (:meth:`Workers.submit`)
REBALANCE = 2.0


def default_jobs() -> int:
    """The cores this process may run on (its CPU affinity, as a container or ``taskset`` sets it),
    at most :data:`MAX_DEFAULT_JOBS`: the fastest setting measured (``benchmarks/bench_recommend.py``)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # (not on Linux)
        usable = os.cpu_count() or 1
    return max(1, min(usable, MAX_DEFAULT_JOBS))


def can_fork() -> bool:
    """Whether this process may fork workers: not once it runs a JVM (JPype; the reasoners start one
    in-process). A forked child has none of the JVM's threads, and JPype hooks Python's garbage
    collection to the JVM's, so the child's first collection would wait for the JVM for ever
    (seen in CI: a test process that had run HermiT hung in a worker). The CLI's batch mode never
    starts a JVM; a program that does gets its batches answered in its own process."""
    jpype = sys.modules.get("jpype")
    return jpype is None or not jpype.isJVMStarted()


def answer_all(answers: ClassAnswers, keys: Sequence[Key]) -> Tails:
    """The tails of new classes: ``None`` for a class whose cases break a contract rule (decided
    for the lot, one check at a time: :attr:`ClassAnswers.validity`), so its lines take the strict
    path, which words each one's error; the others' all at once (:meth:`ClassAnswers.tails`), or,
    if that fails (a bug, not a user's mistake), class by class, a class whose answer fails getting
    ``None`` too (the strict path words the failure as each line's error)."""
    try:
        verdicts = answers.validity.many(keys)
    except Exception:  # (a bug: each class checked on its own, one that fails taking the strict path)
        verdicts = [_checked(answers, key) for key in keys]
    if not all(verdicts):
        valid = _valid_tails(answers, list(itertools.compress(keys, verdicts)))
        tails: Tails = [None] * len(keys)
        for i, tail in zip(itertools.compress(range(len(keys)), verdicts), valid, strict=True):
            tails[i] = tail
        return tails
    return _valid_tails(answers, keys)


def _checked(answers: ClassAnswers, key: Key) -> bool:
    """Whether a class is valid, False if checking it fails (its lines' strict path words why)."""
    try:
        return answers.validity(key)
    except Exception:
        return False


def _valid_tails(answers: ClassAnswers, keys: Sequence[Key]) -> Tails:
    """The tails of valid classes (see :func:`answer_all`)."""
    try:
        return answers.tails(keys)
    except Exception:  # (what was learned before the failure is still right: the parts are cached functions)
        pass
    tails: Tails = []
    for key in keys:
        try:
            tails.append(answers.tail(key))
        except Exception:  # the strict path answers this class's lines (or words their error)
            tails.append(None)
    return tails


Members = list[tuple[int, list[Any]]]  # (a field's position, the values of its classes met since)


def new_members(answers: ClassAnswers, known: list[int]) -> Members:
    """The classes the parent has met since a worker last heard (its counts per field, ``known``,
    brought up to date): the parent numbers each field's classes as lines show them
    (:meth:`FieldClasses.code`), after the fork too, so each key it sends comes with the member
    values of the classes the worker has not seen yet, in the parent's order."""
    members: Members = []
    for p, classes in enumerate(answers.partition.fields):
        count = len(classes.members)
        if count > known[p]:
            members.append((p, classes.members[known[p] :]))
            known[p] = count
    return members


def learn_members(answers: ClassAnswers, members: Members) -> None:
    """A worker's side of :func:`new_members`: the classes numbered in the parent's order, so
    a key means the same classes here (a value whose class comes out numbered otherwise would be
    a bug: its classes' keys then fail, and their lines take the strict path)."""
    fields = answers.partition.fields
    for p, values in members:
        classes = fields[p]
        for value in values:
            if classes.code(value) != len(classes.members) - 1:
                break


def _serve(conn: Connection, answers: ClassAnswers, parents: list[Connection | None], ring: Ring | None) -> None:
    """A worker: answer each list of keys the parent sends, until ``None`` (then send back the
    ``--detail ref`` details learned) or until the parent is gone. See :class:`_Replies`; new
    tails go through ``ring`` where it has room (:mod:`axilla_kg.recommend.ring`).
    ``parents``: the parent's ends of the pipes made so far (its own among them), copied by the
    fork; closed at once, or a parent that dies (SIGKILL, out of memory) would leave its pipes open
    in its workers, and they would wait for it for ever instead of reading the end of the pipe."""
    for end in parents:
        if end is not None:
            end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    replies = _Replies(ring)
    try:
        while (sent := conn.recv()) is not None:
            started = time.process_time()
            read, members, keys = sent
            learn_members(answers, members)
            tails = answer_all(answers, keys)
            conn.send((*replies.reply(tails, read), time.process_time() - started))
        conn.send(answers.details)
    except (EOFError, OSError):  # the parent is gone (or stopped us): nothing left to do
        pass
    finally:
        conn.close()


class _Replies:
    """A worker's side of the tails it sends: each distinct tail crosses the pipe once. Most new
    classes repeat an answer met before (43,114 answers for 100,598 classes in 200,000 varied
    lines), and a tail is kilobytes: a repeat is sent as the number of its first sending. Past
    :data:`MAX_SENT_BYTES` the numbering starts again (a reply that says so: memory stays flat).
    A tail sent for the first time goes through ``ring`` (its place in the reply) when it has room."""

    def __init__(self, ring: Ring | None = None) -> None:
        self.numbers: dict[bytes, int] = {}
        self.size = 0
        self.ring = ring

    def reply(self, tails: Tails, read: int = 0) -> tuple[bool, list[Item]]:
        """(whether the numbering starts again, per tail: its place in the ring, itself, or the
        number of its first sending). ``read``: how many replies the parent has read (the ring's
        bytes it may overwrite)."""
        numbers = self.numbers
        restart = self.size >= MAX_SENT_BYTES
        if restart:
            numbers.clear()
            self.size = 0
        put = None
        if self.ring is not None:
            self.ring.start_reply(read)
            put = self.ring.put
        items: list[Item] = []
        for tail in tails:
            if tail is None:
                items.append(None)
                continue
            number = numbers.get(tail)
            if number is None:
                numbers[tail] = len(numbers)
                self.size += len(tail)
                at = put(tail) if put is not None else None
                items.append(tail if at is None else (at, len(tail)))
            else:
                items.append(number)
        return restart, items


def _received(sent: list[bytes], reply: tuple[bool, list[Item], float], ring: Ring | None = None) -> tuple[Tails, int]:
    """The parent's side of :class:`_Replies`: ``sent`` holds the worker's tails by number, and a
    tail's place is read from ``ring``. Also the bytes of the tails sent for the first time (the
    others are objects the parent holds)."""
    restart, items, _ = reply
    if restart:
        sent.clear()
    tails: Tails = []
    size = 0
    for item in items:
        if isinstance(item, int):
            tails.append(sent[item])
            continue
        if isinstance(item, tuple):
            if ring is None:
                raise ValueError("a reply names a place in a ring this worker has not got")
            item = ring.get(*item)
        if item is not None:
            sent.append(item)
            size += len(item)
        tails.append(item)
    return tails, size


def _ring() -> Ring | None:
    """A worker's ring, or None (its tails then all go through the pipe) if shared memory cannot be mapped."""
    try:
        return Ring()
    except OSError:
        return None


def routing_positions(answers: ClassAnswers, fields: int = 4) -> list[int]:
    """The key positions of the fields the most variants test."""
    counts: dict[str, int] = {}
    for variant in answers.recommender.classifier.variants:
        for name in {t.field for t in variant.tests}:
            counts[name] = counts.get(name, 0) + 1
    names = answers.names
    ranked = sorted(counts, key=lambda n: (-counts[n], names.index(n)))[:fields]
    return sorted(names.index(n) for n in ranked)


class Workers:
    """``jobs`` forked processes answering new classes; :meth:`submit` then :meth:`collect`, in order."""

    def __init__(self, answers: ClassAnswers, jobs: int) -> None:
        #: the parent's own answers: what a lost worker's classes are answered with
        self.answers = answers
        self.route: dict[Any, int] = {}
        self.project = picker(routing_positions(answers))
        self.spent = [0.0] * jobs  # per worker: CPU seconds it reported
        self.queued = [0] * jobs  # per worker: classes sent, not collected yet
        self.spent_total, self.answered = 0.0, 0
        context = multiprocessing.get_context("fork")
        self.processes: list[Any] = []
        self.conns: list[Connection | None] = []
        #: per worker: the ring its new tails come through, and how many of its replies were read
        self.rings: list[Ring | None] = []
        self.read = [0] * jobs
        for number in range(1, jobs + 1):
            parent_end, child_end = context.Pipe()
            ring = _ring()
            self.rings.append(ring)
            process = context.Process(
                target=_serve,
                args=(child_end, answers, [*self.conns, parent_end], ring),
                name=f"axilla-kg batch worker {number}",
                daemon=True,
            )
            process.start()
            child_end.close()
            self.processes.append(process)
            self.conns.append(parent_end)
        self.lost = 0  # workers that died; their classes are answered in this process
        #: per worker: how many classes of each field it knows (:func:`new_members`)
        self.known = [[len(c.members) for c in answers.partition.fields] for _ in self.conns]
        self.sent: list[list[bytes]] = [[] for _ in self.conns]  # per worker: its tails by number (_Replies)
        #: the bytes of the tails the last :meth:`collect` got for the first time (from a worker, or
        #: answered here): what the parent's memo of tails grows by (:meth:`BatchRecommender._store`)
        self.new_bytes = 0

    def submit(self, keys: Sequence[Key]) -> list[list[Key]]:
        """Send each live worker its share of ``keys`` (new classes, distinct); returns the shares
        (by worker) for :meth:`collect`. A worker that cannot be written to is lost."""
        live = [i for i, conn in enumerate(self.conns) if conn is not None]
        shares: list[list[Key]] = [[] for _ in self.conns]
        if not live:
            shares.append(list(keys))  # (no worker left: the last share is this process's)
            return shares
        route, project, conns = self.route, self.project, self.conns
        each = self.spent_total / self.answered if self.answered else 1e-4  # CPU seconds per class, so far
        load = [spent + queued * each for spent, queued in zip(self.spent, self.queued, strict=True)]
        for key in keys:
            value = project(key)
            w = route.get(value)
            if w is None or conns[w] is None or load[w] > REBALANCE * min([load[i] for i in live]) + 64 * each:
                w = route[value] = min(live, key=load.__getitem__)
            load[w] += each
            shares[w].append(key)
        for i in live:
            conn = self.conns[i]
            if shares[i] and conn is not None:
                self.queued[i] += len(shares[i])
                try:
                    conn.send((self.read[i], new_members(self.answers, self.known[i]), shares[i]))
                except OSError:
                    self._lose(i)
        return shares

    def collect(self, shares: list[list[Key]]) -> dict[Key, bytes | None]:
        """The tails of a :meth:`submit` (every submit is collected, in the order submitted): a
        tail a worker sent before is the object received then (:attr:`new_bytes`: the others')."""
        tails: dict[Key, bytes | None] = {}
        self.new_bytes = 0
        for i, share in enumerate(shares):
            if not share:
                continue
            conn = self.conns[i] if i < len(self.conns) else None
            got: Any = None
            if conn is not None:
                self.queued[i] -= len(share)
                try:
                    reply = conn.recv()
                    self.read[i] += 1
                    got, size = _received(self.sent[i], reply, self.rings[i])
                    self.new_bytes += size
                    self.spent[i] += reply[2]
                    self.spent_total += reply[2]
                    self.answered += len(share)
                except (EOFError, OSError, ValueError):  # (ValueError: a reply naming no tail of its ring)
                    self._lose(i)
            if got is None or len(got) != len(share):
                got = answer_all(self.answers, share)  # this process answers what the worker could not
                self.new_bytes += sum(len(tail) for tail in got if tail is not None)
            tails.update(zip(share, got, strict=True))
        return tails

    def _lose(self, i: int) -> None:
        conn = self.conns[i]
        if conn is not None:
            conn.close()
            self.conns[i] = None
            self.lost += 1
            process = self.processes[i]
            process.kill()
            process.join()

    def finish(self) -> dict[str, bytes]:
        """Stop the workers after their last answer; returns the ``--detail ref`` details they learned."""
        details: dict[str, bytes] = {}
        for i, conn in enumerate(self.conns):
            if conn is None:
                continue
            try:
                conn.send(None)
                details.update(conn.recv())
            except (EOFError, OSError):
                self._lose(i)
        self.stop()
        return details

    def stop(self) -> None:
        """Stop every worker now (any way the parent leaves: the end, an error, Ctrl-C)."""
        for conn in self.conns:
            if conn is not None:
                conn.close()
        self.conns = [None] * len(self.conns)
        for process in self.processes:
            if process.is_alive():
                process.kill()
            process.join()
        for ring in self.rings:
            if ring is not None:
                ring.close()
        self.rings = [None] * len(self.rings)
