"""Run the ``Migrate`` codemod over files: the part of ``dbos2resonate migrate`` that is not the CLI.

Contract, per file:
- a file whose text does not contain ``dbos`` (nor the name of a workflow or step of the project) is skipped
  before parsing;
- the output is compiled before it is written; a file whose output does not compile is left untouched
  and reported with the error;
- a file that fails (unreadable, syntax error, a rule crashing) is reported and never stops the others;
- every file gets a typed ``FileResult``: changed or not, rules applied, TODOs added, error.

The ``ast`` analysis runs first; top-level blocks no rule can act on are then left out of the libcst parse and
put back verbatim (``codemod.elide``), which is where most of a large module's parse and print time goes.

``run(..., jobs=N)`` spreads files over a process pool; results come back in input order. ``run`` first reads
every file with ``ast`` (``codemod.project``) to learn which workflows and steps each defines, so a module's
calls of another module's workflows and steps are rewritten too, including in files that never import dbos.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext

from codemod.analysis import SOURCE_KEY, Analysis, Imported, Relevance, analyse_source
from codemod.elide import Elided, elide
from codemod.pipeline import (
    ANALYSIS_KEY,
    RELEVANCE_KEY,
    Migrate,
    UnparseableModule,
    enabled_codes,
    relevance_for,
)
from codemod.project import ParsedTrees, Project, module_name, scan
from codemod.rules import Target
from codemod.todo import TODO_PATTERN
from codemod.transform import APPLIED_KEY

# Directories never walked into (as Ruff's default excludes).
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules", "build", "dist",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages",
)


@dataclass(frozen=True, slots=True)
class Options:
    target: Target = Target.NATIVE
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def validate(self) -> None:
        """Raise ``KeyError`` for an unknown code in select/ignore (before any file is touched)."""
        enabled_codes(self.select or None, self.ignore)


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    changed: bool = False
    rules: tuple[str, ...] = ()  # codes of the rules that rewrote something
    todos: tuple[str, ...] = ()  # codes of the TODO comments this run added (one entry per comment)
    error: str | None = None
    skipped: bool = False  # no "dbos" in the text: not parsed
    before: str | None = field(default=None, repr=False)  # kept only when changed (for --diff)
    after: str | None = field(default=None, repr=False)


def _todo_codes(text: str) -> list[str]:
    return [m["code"] for m in TODO_PATTERN.finditer(text)]


def _new_todos(before: str, after: str) -> tuple[str, ...]:
    remaining = _todo_codes(before)
    added: list[str] = []
    for code in _todo_codes(after):
        if code in remaining:
            remaining.remove(code)
        else:
            added.append(code)
    return tuple(added)


def _compiles(source: str, path: str) -> str | None:
    try:
        compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def migrate_source(
    source: str,
    path: str = "<string>",
    options: Options = Options(),
    project: Project | None = None,
    syntax: ast.Module | None = None,
    *,
    elision: bool = True,
) -> FileResult:
    """Migrate one module's text. Never raises for a problem with the input; the result carries it.

    ``project`` (``codemod.project.scan`` of the files migrated together) lets the module's calls of workflows
    and steps that other files define be rewritten too; without it only the module's own are known.
    ``syntax`` is ``source``'s ``ast`` tree when the caller has it (the scan's), so it is not parsed again.
    ``elision=False`` parses the whole text, blocks no rule can act on included (``codemod.elide``; the output is
    the same either way, which the tests check).
    """
    if "dbos" not in source and not (project is not None and project.mentions(source)):
        return FileResult(path, skipped=True)
    imported: Imported | None = None
    if project is not None and project.modules:
        module_path = Path(path)
        name, package = module_name(module_path), module_path.stem == "__init__"
        imported = lambda tree: project.imported(name, package, tree)
    analysis = analyse_source(source, imported, syntax)
    relevance = relevance_for(analysis, options.target) if analysis is not None else None
    if elision and analysis is not None and relevance is not None:
        elided = elide(source, analysis.tree, relevance)
        if elided is not None:
            relevance.placeholders = elided.names
            result = _migrate(elided.text, source, path, options, analysis, relevance, elided)
            if result is not None:
                return result
            # the placeholders did not come back as given: migrate the whole text, with a fresh analysis
            analysis = analyse_source(source, imported)
            relevance = None
    result = _migrate(source, source, path, options, analysis, relevance, None)
    assert result is not None  # only a restore can fail, and there is none without placeholders
    return result


def _migrate(
    text: str,
    source: str,
    path: str,
    options: Options,
    analysis: Analysis | None,
    relevance: Relevance | None,
    elided: Elided | None,
) -> FileResult | None:
    """Migrate ``text`` (``source``, or ``elided.text``); None when ``elided``'s placeholders did not survive."""
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        if elided is not None:
            return None
        return FileResult(path, error=f"cannot parse: {str(exc).splitlines()[0]} (line {exc.raw_line})")
    context = CodemodContext(filename=path)
    context.scratch[SOURCE_KEY] = source  # the analysis reads the text, not a regenerated one
    if analysis is not None:
        context.scratch[ANALYSIS_KEY] = analysis
    if relevance is not None:
        context.scratch[RELEVANCE_KEY] = relevance
    try:
        # transform_module_impl, not transform_module: no rule reads metadata, and the metadata wrapper
        # would deep-copy the tree first
        codemod = Migrate(context, options.target, options.select or None, options.ignore)
        out = codemod.transform_module_impl(module).code
    except RecursionError:
        return FileResult(path, error="too deeply nested for the codemod")
    except UnparseableModule as exc:
        return FileResult(path, error=f"cannot parse: {exc}")
    except Exception as exc:  # a rule bug must not stop the other files
        return FileResult(path, error=f"internal error in a rule: {type(exc).__name__}: {exc}")
    if elided is not None:
        restored = elided.restore(out)
        if restored is None:
            return None
        out = restored
    if out == source:
        return FileResult(path)
    problem = _compiles(out, path)
    if problem is not None and _compiles(source, path) is None:
        return FileResult(path, error=f"output would not compile, file left unchanged: {problem}")
    applied = tuple(sorted(context.scratch.get(APPLIED_KEY, ())))
    return FileResult(path, changed=True, rules=applied, todos=_new_todos(source, out), before=source, after=out)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def migrate_file(
    path: str | Path,
    options: Options = Options(),
    write: bool = True,
    project: Project | None = None,
    trees: ParsedTrees | None = None,
) -> FileResult:
    p = Path(path)
    try:
        with open(p, encoding="utf-8", newline="") as fh:  # newline="": CRLF files stay CRLF
            source = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        return FileResult(str(path), error=f"cannot read: {exc}")
    syntax = trees.take(str(path), source) if trees is not None else None
    result = migrate_source(source, str(path), options, project, syntax)
    if write and result.changed and result.after is not None:
        try:
            _write_atomic(p, result.after)
        except OSError as exc:
            return FileResult(str(path), error=f"cannot write: {exc}")
    return result


def iter_python_files(paths: Iterable[str | Path], exclude: Iterable[str] = ()) -> Iterator[Path]:
    """``.py`` files under ``paths`` (files given explicitly are kept), sorted, minus ``exclude`` globs."""
    globs = tuple(exclude)

    def excluded(p: Path) -> bool:
        s = p.as_posix()
        return any(fnmatch.fnmatch(s, g) or fnmatch.fnmatch(p.name, g) for g in globs)

    seen: set[Path] = set()
    for raw in paths:
        root = Path(raw)
        if root.is_file():
            if not excluded(root) and root not in seen:
                seen.add(root)
                yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            d = Path(dirpath)
            dirnames[:] = sorted(n for n in dirnames if n not in DEFAULT_EXCLUDES and not excluded(d / n))
            for name in sorted(filenames):
                f = d / name
                if name.endswith(".py") and not excluded(f) and f not in seen:
                    seen.add(f)
                    yield f


_PROJECT: Project | None = None  # in a worker process: the project scan, sent once when the worker starts


def _init_worker(project: Project | None) -> None:
    global _PROJECT
    _PROJECT = project


def _work(args: tuple[str, Options, bool]) -> FileResult:
    path, options, write = args
    try:
        return migrate_file(path, options, write, _PROJECT)
    except Exception as exc:  # pragma: no cover - migrate_file reports its own errors
        return FileResult(path, error=f"internal error: {type(exc).__name__}: {exc}")


def run(
    files: Iterable[str | Path],
    options: Options = Options(),
    *,
    write: bool = True,
    jobs: int = 1,
    progress: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Migrate ``files``; results in input order. ``progress`` is called once per finished file."""
    paths = [str(f) for f in files]
    serial = jobs <= 1 or len(paths) < 2
    # the scan's trees serve the migration only in this process (workers parse their own files)
    trees = ParsedTrees() if serial else None
    # the workflows and steps each file defines, so calls across files are rewritten too (native only)
    project = scan(paths, trees) if options.target is Target.NATIVE and len(paths) > 1 else None
    if serial:
        results = []
        for p in paths:
            try:
                r = migrate_file(p, options, write, project, trees)
            except Exception as exc:  # pragma: no cover - migrate_file reports its own errors
                r = FileResult(p, error=f"internal error: {type(exc).__name__}: {exc}")
            results.append(r)
            if progress:
                progress(r)
        return results
    by_index: dict[int, FileResult] = {}
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(project,)) as pool:
        futures = {pool.submit(_work, (p, options, write)): i for i, p in enumerate(paths)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:  # a worker died (e.g. killed): report, keep going
                r = FileResult(paths[i], error=f"worker failed: {type(exc).__name__}: {exc}")
            by_index[i] = r
            if progress:
                progress(r)
    return [by_index[i] for i in range(len(paths))]
