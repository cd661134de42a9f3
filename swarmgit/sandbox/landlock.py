"""A minimal Landlock binding (Linux 5.13+): restrict this process and its future children to
write only below chosen paths; reads, execution and the network stay free.

Contract of `restrict_writes(paths)`: afterwards, creating, writing, truncating, removing,
renaming or linking a file, or making a folder, device, fifo, socket or symlink, fails with
EACCES (EPERM for some) unless the target lies below one of `paths`; a path naming a file
allows writing that file only. What is already open stays usable. The restriction is inherited
across fork and exec and can never be lifted. Access rights the running kernel does not know
are left out (ABI 1: no REFER, so moving a file between folders is refused; ABI 2 adds REFER,
3 TRUNCATE, 5 IOCTL_DEV).

This module is run by the launcher under `python -I -S`, so it imports only ctypes, os, stat
and sys.
"""

import ctypes
import os
import stat
import sys

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # generic syscall table
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_WRITE_FILE = 1 << 1
_REMOVE_DIR, _REMOVE_FILE = 1 << 4, 1 << 5
_MAKE_ANY = sum(1 << bit for bit in range(6, 13))  # CHAR DIR REG SOCK FIFO BLOCK SYM
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_RIGHTS = _WRITE_FILE | _TRUNCATE | _IOCTL_DEV  # the only handled rights a file rule may hold

_LIBC: ctypes.CDLL | None = None
_UNAVAILABLE = {0, 38, 95}  # not Linux, ENOSYS (not built in), EOPNOTSUPP (disabled at boot)


class LandlockError(OSError):
    """Landlock is unavailable here, or the kernel refused the ruleset."""


def must_refuse(exc: OSError, required: bool) -> bool:
    """Whether a failure of `restrict_writes` forbids running the agent: always, unless the
    kernel simply has no Landlock and the fence is not required (then it runs unfenced)."""
    unavailable = isinstance(exc, LandlockError) and exc.errno in _UNAVAILABLE
    return required or not unavailable


def _libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
        _LIBC.syscall.restype = ctypes.c_long
    return _LIBC


def _checked(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise LandlockError(code, f"{what}: {os.strerror(code)}")
    return result


def _syscall(number: int, *args: object) -> int:
    return _checked(_libc().syscall(number, *args), f"syscall {number}")


def abi_version() -> int:
    """The kernel's Landlock ABI version; LandlockError (ENOSYS: not built in, EOPNOTSUPP:
    disabled at boot) when there is none."""
    if not sys.platform.startswith("linux"):
        raise LandlockError(0, "Landlock needs Linux")
    return _syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)


def write_rights(abi: int) -> int:
    """Every write-like filesystem right the kernel of this ABI version can restrict."""
    rights = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_ANY
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    if abi >= 5:
        rights |= _IOCTL_DEV
    return rights


def restrict_writes(paths: list[str]) -> int:
    """Allow writes only below `paths` (those that do not exist are skipped), for the calling
    thread and every process it starts from now on (other threads of this process stay free:
    Landlock restricts one thread; a process that restricts itself before it starts threads is
    restricted whole). Returns the ABI version used."""
    abi = abi_version()
    handled = write_rights(abi)
    attr = ctypes.c_uint64(handled)  # struct landlock_ruleset_attr, handled_access_fs only
    ruleset = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    try:
        for path in paths:
            _allow(ruleset, path, handled)
        _checked(_libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        _syscall(_SYS_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)
    return abi


def _allow(ruleset: int, path: str, handled: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        rights = handled if stat.S_ISDIR(os.fstat(fd).st_mode) else handled & _FILE_RIGHTS
        # struct landlock_path_beneath_attr (packed): __u64 allowed_access, __s32 parent_fd
        raw = rights.to_bytes(8, sys.byteorder) + fd.to_bytes(4, sys.byteorder, signed=True)
        _syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.c_char_p(raw), 0)
    finally:
        os.close(fd)
