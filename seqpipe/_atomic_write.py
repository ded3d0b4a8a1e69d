"""Atomic writes of seqpipe artifacts, and the removal of those a killed save left.

:func:`_write_atomically` writes to a hidden temporary file next to the target,
``.<name>.<host>.<pid>.<random>.tmp``, flushes it to disk and renames it onto the
target: a crash never leaves a half-written artifact. A save killed mid-write (SIGKILL,
OOM killer) leaves its temporary file behind; the next save to the same path removes
those whose writing process no longer exists on this host (``<host>`` hashes the host
name and PID namespace, within which PIDs are comparable).
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import platform
import re
import tempfile


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # read once, at import: os.umask is not thread-safe


def _write_atomically(target: pathlib.Path, head: bytes, payload: bytes) -> None:
    """Write to a temp file next to ``target``, fsync it, rename it onto ``target``.

    The temp file is named ``.<name>.<host>.<pid>.<random>.tmp``; temp files left by dead
    processes of this host (a save killed mid-write) are removed first."""
    host = _host_tag()
    _remove_orphaned_temp_files(target, host)
    tmp = tempfile.NamedTemporaryFile(dir=target.parent, delete=False,
                                      prefix=f".{target.name}.{host}.{os.getpid()}.",
                                      suffix=".tmp")
    try:
        with tmp:
            os.chmod(tmp.name, _FILE_MODE)
            tmp.write(head)
            tmp.write(payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)
    except BaseException:
        try:
            os.unlink(tmp.name)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; not possible on every platform
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _host_tag() -> str:
    """8 hex digits naming this host and PID namespace, within which PIDs are comparable."""
    try:
        pid_namespace = os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux
        pid_namespace = ""
    return hashlib.sha256(f"{platform.node()}\0{pid_namespace}".encode()).hexdigest()[:8]


def _remove_orphaned_temp_files(target: pathlib.Path, host: str) -> None:
    """Remove the temp files of saves to ``target`` whose process is dead, best effort.

    Only regular files named ``.<target name>.<host>.<pid>.<random>.tmp`` with this
    ``host`` tag are candidates, and only those whose ``pid`` surely no longer exists are
    removed: a concurrent save by a live process keeps its temp file."""
    pattern = re.compile(re.escape(f".{target.name}.{host}.")
                         + r"([1-9][0-9]{0,9})\.[a-z0-9_]+\.tmp")
    try:
        with os.scandir(target.parent) as entries:
            orphans = [entry.path for entry in entries
                       if (match := pattern.fullmatch(entry.name))
                       and entry.is_file(follow_symlinks=False)
                       and not _process_exists(int(match[1]))]
    except OSError:
        return
    for orphan in orphans:
        try:
            os.unlink(orphan)
        except OSError:  # already removed by a concurrent save, or not ours to remove
            pass


def _process_exists(pid: int) -> bool:
    """Whether process ``pid`` exists on this host; True when unsure. A zombie (killed but
    not yet waited for by its parent) still exists; a reused PID looks alive."""
    if os.name != "posix":
        return True  # on Windows os.kill(pid, 0) would terminate the process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: it exists, under another user
        return True
    return True
