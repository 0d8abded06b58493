"""Run parts of a scan in forked processes, so that every core scores pairs.

Threads share one interpreter lock, which numpy holds for each of the scan's many small
steps, so two threads score far fewer than twice the pairs of one. Forked children share the
parent's arrays copy-on-write (nothing is pickled on the way in) and hand their results back
through a pipe; the parent works on the last part itself meanwhile.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def can_fork() -> bool:
    return hasattr(os, "fork")


def fork_map(fn: Callable[[T], R], parts: Sequence[T]) -> list[R]:
    """Return [fn(part) for part in parts], all but the last part computed in forked children.

    fn must only compute (no I/O, no database): a child ends with os._exit and runs no
    clean-up. An exception in a child is raised again in the parent.
    """
    if len(parts) <= 1 or not can_fork():
        return [fn(p) for p in parts]
    children: list[tuple[int, int]] = []
    results: list = []
    try:
        for part in parts[:-1]:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which reports through the pipe
                os.close(read)
                _child(write, fn, part)
            os.close(write)
            children.append((pid, read))
        # A child that finishes first waits on its full pipe until this part is done.
        last = fn(parts[-1])
        while children:
            results.append(_collect(*children.pop(0)))
    finally:
        for pid, read in children:
            os.close(read)
            os.waitpid(pid, 0)
    return [*results, last]


def _child(fd: int, fn: Callable, part: object) -> None:  # pragma: no cover - in the child
    code = 0
    try:
        try:
            outcome = (True, fn(part))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            outcome = (False, exc)
            code = 1
        with os.fdopen(fd, "wb") as out:
            pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        os._exit(code)


def _collect(pid: int, fd: int) -> object:
    try:
        with os.fdopen(fd, "rb") as pipe:
            # Written by our own forked child, just above.
            ok, value = pickle.load(pipe)  # noqa: S301
    except (EOFError, pickle.UnpicklingError) as exc:
        _pid, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        raise RuntimeError(f"a scan worker died (exit code {code})") from exc
    os.waitpid(pid, 0)
    if not ok:
        raise value
    return value
