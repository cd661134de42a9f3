"""Import graphs of one side of a GateContext, built by grimp straight from git's blobs.

grimp's own pipeline (package finder, module finder, Rust import scanner, graph assembly) runs
with three of its ports swapped in for one build: a file system over the side's tree (listed
from git, not from a disk), a package finder that places the packages in it, and a cache of
each module's imports kept per blob id in the gate cache (blobcache.py). Only the modules the
cache misses are read, written to a scratch folder (where grimp's Rust scanner reads them) and
scanned. A module's imports depend on its source, its path and on
which modules exist (grimp resolves `from a import b` to `a.b` when that is a module), so an
entry's key holds the blob id, the path and a digest of every Python path of the side: a
change that adds or removes a module rescans that side once. A module the scanner refuses
(a syntax error, not UTF-8, a large file CPython refuses: scanning.py) or that is too large
to analyse (GateContext.too_large: checked before the cache, so a changed limit is honoured
warm) imports nothing in the graph and is named in `SideGraph.unscannable`; it is never cached, so the
same tree gives the same graph and the same list warm or cold.

`same_internal_imports` answers, for a change that adds, removes and renames no module, whether
the changed modules import the same modules of the packages at both sides (each scanned twice,
with head's module set): then the two sides' graphs have the same internal edges, and Gate-M
needs neither graph.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grimp
from grimp import _rustgrimp as rust  # type: ignore[attr-defined]
from grimp.application.config import settings as grimp_settings
from grimp.application.ports.caching import CacheMiss
from grimp.application.ports.filesystem import AbstractFileSystem, BasicFileSystem
from grimp.application.ports.modulefinder import FoundPackage, ModuleFile
from grimp.application.ports.packagefinder import AbstractPackageFinder
from grimp.domain.valueobjects import DirectImport, Module

from swarmgit.gates.base import GateContext, Side, scratch_root
from swarmgit.gates.cache import cache_key
from swarmgit.gates.scanning import ScanFailed, refusal, scan

IMPORTS = "imports-v2"  # the per-blob cache kind; a new version drops old entries
DIGEST_CHARS = 16  # of the digest of a side's Python paths, in each key

_GRIMP_SETTINGS = threading.Lock()


@dataclass(frozen=True)
class SideGraph:
    """One side's import graph and the modules left out of it: path -> (line, message) of
    each file grimp could not scan (a syntax error, not UTF-8), which is in the graph as a
    module importing nothing, its imports being unknown."""

    graph: grimp.ImportGraph
    unscannable: Mapping[str, tuple[int, str]]


def import_graph(ctx: GateContext, side: Side, layout: Mapping[str, str]) -> SideGraph:
    """grimp's graph of that side's packages (external imports squashed into one node each).
    A package mapped elsewhere appears inside its parent's folder, as installing it would."""
    with tempfile.TemporaryDirectory(prefix="swarm-gate-", dir=scratch_root()) as root:
        files = _TreeFiles(ctx, side, layout, root)
        present = files.packages(layout)
        if not present:
            return SideGraph(grimp.ImportGraph(), {})
        with _grimp_ports(files, _PackagesAt(present)):
            graph = grimp.build_graph(*sorted(present), include_external_packages=True, cache_dir=IMPORTS)
        return SideGraph(graph, files.unscannable)


def same_internal_imports(ctx: GateContext, layout: Mapping[str, str], modules: Mapping[str, str]) -> bool:
    """True when base and head hold the same Python files under the packages and each of
    `modules` (name -> path, the changed ones) imports the same modules of the packages at
    both sides: the two graphs then have the same internal edges. False when that cannot be
    told cheaply (a module added, removed or renamed, a file grimp cannot scan)."""
    prefixes = tuple(folder + "/" for folder in set(layout.values()))
    touched = [*ctx.changed_lines, *ctx.renames.values()]
    if any(
        path.endswith(".py")
        and path.startswith(prefixes)
        and (path in ctx.renames or None in (ctx.blob_id("base", path), ctx.blob_id("head", path)))
        for path in touched
    ):
        return False
    with tempfile.TemporaryDirectory(prefix="swarm-gate-", dir=scratch_root()) as root:
        files = _TreeFiles(ctx, "head", layout, root)
        present = files.packages(layout)
        with _grimp_ports(files, _PackagesAt(present)):
            found = {
                grimp_settings.MODULE_FINDER.find_package(
                    package_name=name, package_directory=folder, file_system=files
                )
                for name, folder in present.items()
            }
            virtual = _module_paths(found, files.files)
            module_files = {f.module.name: f for p in found for f in p.module_files}
            for name, path in sorted(modules.items()):
                if name not in virtual:
                    continue  # not a module grimp finds: no edges at either side
                scanned = [
                    _internal_imports(files, virtual[name], module_files[name], found, side)
                    for side in ("base", "head")
                ]
                if None in scanned or scanned[0] != scanned[1]:
                    return False
    return True


def _internal_imports(
    files: _TreeFiles,
    virtual: str,
    module_file: ModuleFile,
    found: set[FoundPackage],
    side: Side,
) -> frozenset[str] | None:
    """The modules of the packages one module imports at that side (scanned from its blob
    there); None when grimp cannot scan it or it is too large to analyse."""
    path = files.files[virtual]
    if files.ctx.too_large(side, path):
        return None
    data = files.ctx.blob_data(side, path)
    if refusal(data) is not None:
        return None
    os.makedirs(posixpath.dirname(virtual), exist_ok=True)
    with open(virtual, "wb") as handle:
        handle.write(data)
    try:
        imports = scan([module_file], found)
    except ScanFailed:
        return None
    roots = {p.name for p in found}
    inside = tuple(f"{r}." for r in roots)
    return frozenset(
        i.imported.name
        for i in imports[module_file]
        if i.imported.name in roots or i.imported.name.startswith(inside)
    )


def _module_paths(found: set[FoundPackage], files: Collection[str]) -> dict[str, str]:
    """Module name -> the virtual path of its file, for the modules grimp found."""
    paths = {}
    for package in found:
        for module_file in package.module_files:
            name = module_file.module.name
            inner = name[len(package.name) :].lstrip(".").replace(".", "/")
            stem = f"{package.directory}/{inner}" if inner else package.directory
            for virtual in (f"{stem}.py", f"{stem}/__init__.py"):
                if virtual in files:
                    paths[name] = virtual
    return paths


class _TreeFiles(AbstractFileSystem):
    """The side's Python files under the package folders, as grimp's file system port, seen
    at `root` (where only the files to scan are written)."""

    def __init__(self, ctx: GateContext, side: Side, layout: Mapping[str, str], root: str) -> None:
        self.ctx, self.side, self.root = ctx, side, root
        prefixes = tuple(folder + "/" for folder in set(layout.values()))
        self.files = {
            f"{root}/{path}": path
            for path in ctx.tracked_files(side)
            if path.endswith(".py") and path.startswith(prefixes)
        }
        deepest_first = sorted(layout.items(), key=lambda item: -item[0].count("."))
        for name, folder in deepest_first:
            parent, _, last = name.rpartition(".")
            if parent in layout:
                self._link(f"{root}/{layout[parent]}/{last}", f"{root}/{folder}")
        self.children: dict[str, tuple[set[str], list[str]]] = {}
        for virtual in self.files:
            folder, name = posixpath.split(virtual)
            self._folder(folder)[1].append(name)
        self.digest = cache_key(sorted(self.relative(v) for v in self.files))[:DIGEST_CHARS]
        self.store = ctx.blob_cache(IMPORTS)
        self.found: dict[str, list[DirectImport]] = {}  # path -> imports known
        self.fresh: set[str] = set()  # paths scanned now, whose imports the cache takes
        self.unscannable: dict[str, tuple[int, str]] = {}  # repo path -> (line, message)

    def _link(self, link: str, target: str) -> None:
        if self.is_dir(target) and link not in self.files and not self.is_dir(link):
            inside = [v for v in self.files if v.startswith(target + "/")]
            self.files.update({link + v[len(target) :]: self.files[v] for v in inside})

    def _folder(self, folder: str) -> tuple[set[str], list[str]]:
        if folder not in self.children:
            self.children[folder] = (set(), [])
            parent, name = posixpath.split(folder)
            if folder != self.root:
                self._folder(parent)[0].add(name)
        return self.children[folder]

    def packages(self, layout: Mapping[str, str]) -> dict[str, str]:
        """Top-level package name -> its folder under `root`, for those this side holds."""
        return {
            name: f"{self.root}/{folder}"
            for name, folder in layout.items()
            if "." not in name and self.is_dir(f"{self.root}/{folder}")
        }

    def is_dir(self, folder: str) -> bool:
        """True when some file lies below `folder` (an export holds Python files only)."""
        prefix = folder + "/"
        return any(v.startswith(prefix) for v in self.files)

    def relative(self, virtual: str) -> str:
        """Where a file appears in the tree (a linked package: inside its parent)."""
        return virtual[len(self.root) + 1 :]

    def key(self, virtual: str) -> str:
        """The cache key of a module's imports: blob id, path, the side's module set."""
        oid = self.ctx.blob_id(self.side, self.files[virtual]) or "-"
        return f"{oid}:{self.digest}:{self.relative(virtual)}"

    @property
    def sep(self) -> str:
        return "/"

    def dirname(self, filename: str) -> str:
        return posixpath.dirname(filename)

    def walk(self, directory_name: str) -> Iterator[tuple[str, list[str], list[str]]]:
        if directory_name not in self.children:
            return
        subdirs, names = self.children[directory_name]
        dirs = sorted(subdirs)
        yield directory_name, dirs, sorted(names)
        for name in dirs:  # pruned in place by the caller, as os.walk allows
            yield from self.walk(f"{directory_name}/{name}")

    def join(self, *components: str) -> str:
        return posixpath.join(*components)

    def split(self, file_name: str) -> tuple[str, str]:
        return posixpath.split(file_name)

    def read(self, file_name: str) -> str:
        return self.ctx.text(self.side, self.files[file_name]) or ""

    def exists(self, file_name: str) -> bool:
        return file_name in self.files

    def get_mtime(self, file_name: str) -> float:
        return 0.0  # the cache is keyed by content, never by time

    def write(self, file_name: str, contents: str) -> None:
        raise OSError("the tree of a gate is read-only")

    def convert_to_basic(self) -> BasicFileSystem:
        """The disk: grimp's Rust scanner reads the modules to scan there (see `prepare`)."""
        basic: BasicFileSystem = rust.RealBasicFileSystem()
        return basic

    def prepare(self, paths: Mapping[str, str], found: set[FoundPackage]) -> None:
        """Take these modules' imports (module -> path) from the cache; scan the others,
        written to the disk where the scanner reads them. A module too large to analyse or
        that cannot be scanned
        imports nothing here and is listed in `unscannable` (never cached: each build finds
        it again, so its finding does not depend on the cache)."""
        made: set[str] = set()
        modules: dict[str, Module] = {}
        missed: dict[str, str] = {}
        for name, virtual in paths.items():
            too_large = self.ctx.too_large(self.side, self.files[virtual])
            if too_large is not None:
                self._unscannable(virtual, (0, too_large))
                continue
            imports = _decode(self.store.get(self.key(virtual)), modules)
            if imports is not None and all(i.importer.name == name for i in imports[:1]):
                self.found[virtual] = imports
                continue
            data = self.ctx.blob_data(self.side, self.files[virtual])
            refused = refusal(data)
            if refused is not None:
                self._unscannable(virtual, refused)
                continue
            folder = posixpath.dirname(virtual)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            with open(virtual, "wb") as handle:
                handle.write(data)
            missed[name] = virtual
        module_files = [f for p in found for f in p.module_files if f.module.name in missed]
        self._scan(module_files, found, missed)

    def _scan(
        self, module_files: list[ModuleFile], found: set[FoundPackage], paths: Mapping[str, str]
    ) -> None:
        """Scan these modules in one call; when one cannot be scanned, each half again,
        down to the modules that fail alone (so k bad files of n cost O(k log n) calls)."""
        if not module_files:
            return
        try:
            scanned = scan(module_files, found)
        except ScanFailed as exc:
            if len(module_files) == 1:
                self._unscannable(paths[module_files[0].module.name], exc.where)
                return
            half = len(module_files) // 2
            self._scan(module_files[:half], found, paths)
            self._scan(module_files[half:], found, paths)
            return
        for module_file, imports in scanned.items():
            virtual = paths[module_file.module.name]
            self.found[virtual] = list(imports)
            self.fresh.add(virtual)

    def _unscannable(self, virtual: str, where: tuple[int, str]) -> None:
        self.found[virtual] = []
        self.unscannable[self.files[virtual]] = where


class _PackagesAt(AbstractPackageFinder):
    """Finds packages in the tree rather than on sys.path (which holds installed code)."""

    def __init__(self, folders: Mapping[str, str]) -> None:
        self.folders = folders

    def determine_package_directories(self, package_name: str, file_system: AbstractFileSystem) -> set[str]:
        return {self.folders[package_name]}


class _ImportCache:
    """grimp's cache port over the blob cache: `setup` is called in place of the class's, with
    the packages found, before any module is scanned."""

    def __init__(self, files: _TreeFiles) -> None:
        self.files = files
        self.paths: dict[str, str] = {}  # module -> virtual path

    def setup(self, file_system: object, found_packages: set[FoundPackage], **options: Any) -> _ImportCache:
        self.paths = _module_paths(found_packages, self.files.files)
        self.files.prepare(self.paths, found_packages)
        return self

    def read_imports(self, module_file: ModuleFile) -> Collection[DirectImport]:
        name = module_file.module.name
        imports = self.files.found.get(self.paths.get(name, ""))
        if imports is None:
            raise CacheMiss(name)
        return imports

    def write(self, imports_by_module: dict[Module, set[DirectImport]]) -> None:
        for module, imports in imports_by_module.items():
            virtual = self.paths.get(module.name)
            if virtual not in self.files.fresh:
                continue
            ordered = sorted(imports, key=lambda i: (i.line_number, i.imported.name))
            entry = [
                module.name,
                [[i.imported.name, i.line_number, i.line_contents, i.is_lazy] for i in ordered],
            ]
            self.files.store.put(self.files.key(virtual), entry)


def _decode(entry: object, modules: dict[str, Module]) -> list[DirectImport] | None:
    """The imports a cache entry holds (`[importer, [[imported, line, text, lazy], ...]]`, each
    import once, so a list); None for a miss or an entry of another shape. `modules` interns
    the Module values: most imported names recur across a tree."""
    match entry:
        case [str(importer), list(imports)]:
            pass
        case _:
            return None
    found = []
    source = modules.setdefault(importer, Module(importer))
    for item in imports:
        match item:
            case [str(imported), int(line), str(contents), bool(lazy)]:
                target = modules.get(imported) or modules.setdefault(imported, Module(imported))
                found.append(
                    DirectImport(
                        importer=source,
                        imported=target,
                        line_number=line,
                        line_contents=contents,
                        is_lazy=lazy,
                    )
                )
            case _:
                return None
    return found


@contextmanager
def _grimp_ports(files: _TreeFiles, finder: _PackagesAt) -> Iterator[None]:
    # grimp reads its ports from global settings (grimp.main wires the real ones); swap ours
    # in for the duration of one build.
    with _GRIMP_SETTINGS:
        names = ("FILE_SYSTEM", "PACKAGE_FINDER", "CACHE_CLASS")
        previous = {name: getattr(grimp_settings, name) for name in names}
        grimp_settings.configure(FILE_SYSTEM=files, PACKAGE_FINDER=finder, CACHE_CLASS=_ImportCache(files))
        try:
            yield
        finally:
            grimp_settings.configure(**previous)
