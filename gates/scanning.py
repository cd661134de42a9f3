"""grimp's import scanner made safe for untrusted source: every way it refuses a module is one
exception, ScanFailed, and a large file CPython refuses for good never reaches it.

The scanner raises SourceSyntaxError for a syntax error, UnicodeError for a file that is not
UTF-8, and panics in Rust (pyo3's PanicException, a BaseException) on some valid code, such as
a relative import past the top package; it crashes the process on a long enough expression
(`1+1+...`, ~100k terms), which CPython refuses (syntax.cpython_error).
"""

from __future__ import annotations

from grimp.application.ports.modulefinder import FoundPackage, ModuleFile
from grimp.application.scanning import scan_imports
from grimp.domain.valueobjects import DirectImport
from grimp.exceptions import GrimpException, SourceSyntaxError

from swarmgit.gates.syntax import cpython_error

# A file larger than this is parsed by CPython before the scanner sees it (a smaller one
# cannot hold an expression long enough to crash it).
PRECHECK_BYTES = 64 * 1024
SHOWN_CHARS = 80  # of the line a syntax error quotes


class ScanFailed(Exception):
    """grimp's scanner refused a module: `where` is (line or 0, what it said)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.where = (line, message)


def scan(module_files: list[ModuleFile], found: set[FoundPackage]) -> dict[ModuleFile, set[DirectImport]]:
    """grimp's scanner on these modules; ScanFailed when it refuses one of them."""
    try:
        return scan_imports(
            module_files,
            found_packages=found,
            include_external_packages=True,
            exclude_type_checking_imports=False,
        )
    except SourceSyntaxError as exc:
        text = (exc.text or "").strip()[:SHOWN_CHARS]
        raise ScanFailed(exc.lineno or 0, f"grimp's scanner cannot parse: {text}") from exc
    except (GrimpException, UnicodeError) as exc:  # UnicodeError: a file that is not UTF-8
        raise ScanFailed(0, str(exc)) from exc
    except BaseException as exc:
        # A panic in grimp's Rust code (`from .......... import x` past the top package)
        # is pyo3's PanicException, a BaseException that cannot be imported by name.
        if type(exc).__name__ != "PanicException":
            raise
        raise ScanFailed(0, f"grimp's scanner failed on it: {exc}") from exc


def refusal(data: bytes) -> tuple[int, str] | None:
    """(line, message) when a large file is one CPython refuses for good (see
    `syntax.cpython_error`): not handed to the scanner."""
    if len(data) <= PRECHECK_BYTES:
        return None
    verdict = cpython_error(data)
    return verdict[0] if verdict is not None and verdict[1] else None
