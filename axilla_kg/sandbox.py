"""The second barrier against outbound requests: a process that evaluates queries cannot open a
network socket at all.

Why: the query screen (:mod:`axilla_kg.graph.sparql_text`) decides on the text, and a parser can always
read a text in a way its author did not foresee. This barrier does not look at the query. Before a
query worker (or the CLI's ``sparql``/``query`` commands) evaluates anything, it installs a Linux
seccomp filter (through libseccomp, via ``pyseccomp``) under which ``socket()`` fails with EACCES
for every address family except AF_UNIX, and ``io_uring_setup`` (which could open sockets around the
filter) fails too. Sockets opened before the filter, such as the worker's pipe to the server, keep
working; the filter is inherited by any child and can never be lifted. So whatever query an engine
evaluates, a ``SERVICE`` or a remote ``FROM`` fails inside the process instead of reaching a host.

The filter is per process and permanent: the library's Python API leaves the caller's process
alone (:func:`forbid_network` is called only by the CLI and the server's workers).
"""

from __future__ import annotations

import errno
import socket
import sys

from axilla_kg.errors import SandboxUnavailable

_installed = False


def forbid_network() -> None:
    """Make every later ``socket()`` call of this process, except AF_UNIX, fail with EACCES.

    Idempotent. Raises :class:`SandboxUnavailable` where seccomp is missing, so callers fail closed.
    """
    global _installed
    if _installed:
        return
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable("the network barrier needs Linux seccomp")
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        rules.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        rules.add_rule(seccomp.ERRNO(errno.EACCES), "io_uring_setup")
        rules.load()
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        raise SandboxUnavailable(f"cannot install the network barrier (seccomp): {exc}") from None
    _installed = True


def network_forbidden() -> bool:
    """True once :func:`forbid_network` has run in this process."""
    return _installed
