"""The parse-light lint engine: every DBOS construct and migration TODO left in one Python file.

It reads a file with :mod:`ast` (and :mod:`tokenize` for comments, only when the file has a ``# noqa`` or a
TODO tag), never with libcst, so that ``check`` runs at close to ``ast.parse`` speed:

1. A file whose bytes do not contain ``dbos`` is skipped unparsed (it cannot import dbos, and the TODO tag
   ``TODO(dbos2resonate)`` contains ``dbos`` too).
2. Imports from dbos are collected by visiting only the statements whose lines mention ``dbos``.
3. Uses of the names those imports bound are found by visiting only the statements whose lines mention one
   of those names, with function, class, lambda and comprehension scopes tracked so that a parameter or local
   variable that rebinds such a name (``def f(DBOS): ...``) is not reported.

Name resolution, in short:

- ``import dbos``, ``import dbos as d``, ``from dbos import DBOS as D``, ``from dbos import *`` and imports from
  dbos's private modules (``from dbos._dbos import DBOS``) all resolve to the names of ``codemod.apis``.
- An import anywhere in the file binds its name for the whole file, except inside a function or class that
  rebinds the name by any other means (parameter, assignment, ``for``, ``with ... as``, another import).
  At module level an import from dbos wins over other bindings of the same name (``try: from dbos import
  DBOS`` / ``except ImportError: DBOS = None`` still counts).
- Exception classes (``dbos.error``, ``dbos._error``) are reported at their import only: ``migrate`` fixes
  them by rewriting the import, so each ``except`` clause would only repeat that finding.
- Names that come from anywhere else are not DBOS, whatever they are called. In particular code that
  runs on this project's shim (``from shim import DBOS``, ``import shim as DBOS``) is not reported: that is
  what ``migrate --to shim`` writes, a finished migration rather than a leftover.
- An attribute of ``DBOS`` that ``codemod.apis`` does not list (``DBOS.something_new``), and a name
  imported from dbos that it does not list, are reported under D2R209 (other DBOS API).
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import replace

from codemod.apis import BY_NAME, DbosApi
from codemod.lint.model import ErrorKind, FileError, FileResult, Finding, Kind
from codemod.lint.registry import rules
from codemod.todo import TODO_PATTERN, TODO_TAG

__all__ = ["check_source", "IMPORT_CODE", "OTHER_CODE", "TODO_NAME"]

IMPORT_CODE = "D2R101"  # an import from dbos
OTHER_CODE = "D2R209"  # a DBOS name that codemod.apis does not list
TODO_NAME = "TODO"  # Finding.name of a migration TODO

_ERROR_MODULES = frozenset({"error", "_error"})  # dbos.error / dbos._error: exception classes
_TOP_LEVEL = frozenset(name for name in BY_NAME if "." not in name)  # what ``from dbos import *`` binds

_DBOS_WORD = re.compile(r"\bdbos\b")
_NOQA_HINT = re.compile(r"#\s*(?i:noqa)")
# ``# noqa`` (every code on the line), ``# noqa: D2R111``, ``# noqa: D2R111, D2R112`` or ``# noqa:D2R111 D2R112``.
_NOQA = re.compile(r"#\s*(?i:noqa)(?::\s?(?P<codes>[A-Z][A-Z0-9]*(?:(?:\s*,\s*|\s+)[A-Z][A-Z0-9]*)*))?")
# A TODO whose docs pointer was edited away still counts: the tag and a code are enough.
_LOOSE_TODO = re.compile(r"#\s*TODO\(dbos2resonate\):\s*(?P<code>D2R\d{3})\b\s*(?P<reason>.*?)\s*(?:See docs/\S*)?\s*$")
_TODO_HINT = TODO_TAG  # "TODO(dbos2resonate):"

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)

# A resolved name: the dotted path inside the dbos package ("DBOS", "error", "_dbos.DBOS", "" for dbos itself).
Qualified = tuple[str, ...]


def check_source(data: bytes | str, path: str) -> FileResult:
    """Findings (noqa already applied, not yet ``--select``-ed) for one file's content."""
    if isinstance(data, str):
        if "dbos" not in data:
            return FileResult(path, skipped=True)
        text = data
    else:
        if b"dbos" not in data:
            return FileResult(path, skipped=True)
        try:
            text = _decode(data)
        except (UnicodeDecodeError, LookupError) as exc:
            return FileResult(path, error=_decode_error(path, data, exc))
    if "\r" in text:  # ast counts \r\n and \r as line ends; so will every position computed here
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    result = FileResult(path, lines=text.count("\n") + (not text.endswith("\n")))
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        result.error = FileError(
            path, exc.lineno or 1, max(exc.offset or 1, 1), ErrorKind.SYNTAX, f"syntax error: {exc.msg}"
        )
        return result
    except (ValueError, RecursionError, MemoryError) as exc:
        result.error = FileError(path, 1, 1, ErrorKind.SYNTAX, f"cannot parse: {exc}")
        return result
    _FileCheck(path, text, tree, result).run()
    return result


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:  # a PEP 263 cookie naming another encoding
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError:
            encoding = "utf-8"
        if encoding in ("utf-8", "utf-8-sig"):
            raise
        return data.decode(encoding)


def _decode_error(path: str, data: bytes, exc: Exception) -> FileError:
    if isinstance(exc, UnicodeDecodeError):
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return FileError(path, line, column, ErrorKind.ENCODING, f"not UTF-8: {exc.reason} (byte 0x{data[exc.start]:02x})")
    return FileError(path, 1, 1, ErrorKind.ENCODING, f"unknown encoding: {exc}")


def _lines_matching(pattern: re.Pattern[str], text: str) -> list[int]:
    """The sorted 1-based numbers of the lines where ``pattern`` matches."""
    out: list[int] = []
    line, last = 1, 0
    for m in pattern.finditer(text):
        start = m.start()
        line += text.count("\n", last, start)
        last = start
        if not out or out[-1] != line:
            out.append(line)
    return out


def _import_root(node: ast.Import | ast.ImportFrom) -> list[tuple[str, Qualified]]:
    """(bound name, qualified target) for each dbos name an import statement binds; empty if none."""
    out: list[tuple[str, Qualified]] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] != "dbos":
                continue
            if alias.asname:  # import dbos.error as e: e is dbos.error
                out.append((alias.asname, tuple(parts[1:])))
            else:  # import dbos.error: binds dbos
                out.append(("dbos", ()))
        return out
    if node.level or not node.module:
        return out
    parts = node.module.split(".")
    if parts[0] != "dbos":
        return out
    module = tuple(parts[1:])
    for alias in node.names:
        if alias.name == "*":
            if module and module[0] in _ERROR_MODULES:
                continue  # exception classes: nothing to report at their uses
            out.extend((name, (name,)) for name in sorted(_TOP_LEVEL))
        else:
            out.append((alias.asname or alias.name, (*module, alias.name)))
    return out


def _import_text(node: ast.Import | ast.ImportFrom) -> tuple[str, str]:
    """(module, short source form) of a dbos import statement, for its finding's name and message."""
    if isinstance(node, ast.Import):
        names = [a for a in node.names if a.name.split(".")[0] == "dbos"]
        shown = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in names)
        return names[0].name, f"import {shown}"
    shown = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
    return node.module or "dbos", f"from {node.module} import {shown}"


def _classify(parts: Qualified) -> tuple[int, str] | None:
    """How many leading parts form the reported API, and its name; None for exception classes.

    ``("DBOS", "logger", "info")`` -> ``(2, "DBOS.logger")``; ``("DBOS", "nope")`` -> ``(2, "DBOS.nope")``
    (an unlisted DBOS attribute); ``("_dbos", "DBOS")`` -> ``(2, "DBOS")``; ``()`` -> ``(0, "dbos")``.
    """
    skip = 0
    while skip < len(parts) and parts[skip].startswith("_") and parts[skip] != "_error":
        skip += 1  # dbos._dbos.DBOS is dbos.DBOS
    rest = parts[skip:]
    if rest and rest[0] in _ERROR_MODULES:
        return None
    for k in range(len(rest), 0, -1):
        name = ".".join(rest[:k])
        if name == "DBOS" and len(rest) > 1:
            break  # DBOS.<something the table does not list>
        if name in BY_NAME:
            return skip + k, name
    if not rest:
        return len(parts), "dbos"
    if rest[0] == "DBOS" and len(rest) > 1:
        return skip + 2, f"DBOS.{rest[1]}"
    return skip + 1, ".".join(rest[:1])


class _FileCheck:
    """One file's analysis; see the module docstring for the order of work."""

    def __init__(self, path: str, text: str, tree: ast.Module, result: FileResult) -> None:
        self.path = path
        self.text = text
        self.tree = tree
        self.result = result
        self.ascii = text.isascii()
        self._lines: list[str] | None = None
        self.candidates: list[int] = []
        self.aliases: dict[str, Qualified] = {}
        self.dbos_imports: set[int] = set()  # id() of import nodes from dbos
        self.findings: list[Finding] = []
        # first line (decorators included) of the statement each finding stands in, by finding index
        self._statement_line = 0
        self._statement_of: list[int] = []

    # -- driver ---------------------------------------------------------------------------------------
    def run(self) -> None:
        self.candidates = _lines_matching(_DBOS_WORD, self.text)
        if self.candidates:
            self._collect_imports(self.tree.body)
        if self.aliases:
            names = sorted(self.aliases, key=len, reverse=True)
            self.candidates = _lines_matching(re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, names))), self.text)
            self._block(self.tree.body, frozenset(), frozenset())
        has_todo = _TODO_HINT in self.text
        constructs = len(self.findings)
        if has_todo or (self.findings and _NOQA_HINT.search(self.text)):
            self._comments(has_todo)
        if has_todo:
            self._mark_declined(constructs)
        self.findings.sort(key=lambda f: (f.line, f.column, f.code))
        self.result.findings = self.findings

    # -- positions ------------------------------------------------------------------------------------
    def _overlaps(self, node: ast.stmt) -> bool:
        decorators = getattr(node, "decorator_list", None)
        start = decorators[0].lineno if decorators else node.lineno
        cand = self.candidates
        i = bisect_left(cand, start)
        return i < len(cand) and cand[i] <= (node.end_lineno or start)

    def _column(self, line: int, byte_offset: int) -> int:
        """1-based character column of an ast (UTF-8 byte) offset."""
        if self.ascii:
            return byte_offset + 1
        if self._lines is None:
            self._lines = self.text.split("\n")
        text = self._lines[line - 1] if line <= len(self._lines) else ""
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1

    def _add(self, start: ast.AST, end: ast.AST, code: str, name: str, kind: Kind, message: str) -> None:
        line, end_line = start.lineno, end.end_lineno or start.lineno
        self.findings.append(
            Finding(
                path=self.path,
                line=line,
                column=self._column(line, start.col_offset),
                end_line=end_line,
                end_column=self._column(end_line, end.end_col_offset or 0),
                code=code,
                name=name,
                kind=kind,
                message=message,
                fixable=rules()[code].fixable,
            )
        )
        self._statement_of.append(self._statement_line or line)

    def _mark_declined(self, constructs: int) -> None:
        """``migrate`` leaves a coded TODO above each statement it could not convert: a construct under
        a TODO of its own code is not fixable, and neither is a dbos import once nothing fixable uses it."""
        todos: dict[int, set[str]] = {}
        for finding in self.findings[constructs:]:
            todos.setdefault(finding.line, set()).add(finding.code)

        def declined(index: int, finding: Finding) -> bool:
            line = self._statement_of[index] - 1
            while line in todos:
                if finding.code in todos[line]:
                    return True
                line -= 1
            return False

        for index, finding in enumerate(self.findings[:constructs]):
            if finding.fixable and finding.kind is not Kind.IMPORT and declined(index, finding):
                self.findings[index] = replace(finding, fixable=False)
        if not any(f.fixable and f.kind is not Kind.IMPORT for f in self.findings[:constructs]):
            for index, finding in enumerate(self.findings[:constructs]):
                if finding.kind is Kind.IMPORT and finding.fixable:
                    self.findings[index] = replace(finding, fixable=False)

    # -- imports --------------------------------------------------------------------------------------
    def _collect_imports(self, stmts: list[ast.stmt]) -> None:
        for st in stmts:
            if not self._overlaps(st):
                continue
            if isinstance(st, (ast.Import, ast.ImportFrom)):
                bound = _import_root(st)
                if not bound:
                    continue
                self.dbos_imports.add(id(st))
                self.result.imports_dbos = True
                for name, target in bound:
                    self.aliases.setdefault(name, target)
                module, shown = _import_text(st)
                self._add(st, st, IMPORT_CODE, module, Kind.IMPORT, f"`{shown}`: {rules()[IMPORT_CODE].summary}")
            else:
                for body in _stmt_lists(st):
                    self._collect_imports(body)

    # -- uses -----------------------------------------------------------------------------------------
    def _block(self, stmts: list[ast.stmt], eff: frozenset[str], fn_eff: frozenset[str]) -> None:
        """Visit statements; ``eff`` are the alias names rebound (shadowed) in the current scope, ``fn_eff``
        those a nested function inherits (class scopes are not visible from their methods)."""
        for st in stmts:
            if not self._overlaps(st):
                continue
            decorators = getattr(st, "decorator_list", None)
            self._statement_line = decorators[0].lineno if decorators else st.lineno
            t = type(st)
            if t is ast.FunctionDef or t is ast.AsyncFunctionDef:
                for d in st.decorator_list:
                    self._expr(d, eff)
                self._signature(st.args, eff)
                if st.returns is not None:
                    self._expr(st.returns, eff)
                inner = fn_eff | self._bindings(st.body, st.args)
                self._block(st.body, inner, inner)
            elif t is ast.ClassDef:
                for node in (*st.decorator_list, *st.bases, *st.keywords):
                    self._expr(node, eff)
                self._block(st.body, fn_eff | self._bindings(st.body, None), fn_eff)
            elif t is ast.Import or t is ast.ImportFrom:
                continue
            else:
                self._generic(st, eff, fn_eff)

    def _generic(self, node: ast.AST, eff: frozenset[str], fn_eff: frozenset[str]) -> None:
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                if value and isinstance(value[0], ast.stmt):
                    self._block(value, eff, fn_eff)
                    continue
                for item in value:
                    if isinstance(item, ast.expr):
                        self._expr(item, eff)
                    elif isinstance(item, ast.AST):
                        self._generic(item, eff, fn_eff)
            elif isinstance(value, ast.expr):
                self._expr(value, eff)
            elif isinstance(value, ast.AST):
                self._generic(value, eff, fn_eff)

    def _signature(self, args: ast.arguments, eff: frozenset[str]) -> None:
        for default in (*args.defaults, *args.kw_defaults):
            if default is not None:
                self._expr(default, eff)
        for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self._expr(arg.annotation, eff)

    def _bindings(self, body: list[ast.stmt], args: ast.arguments | None) -> frozenset[str]:
        """The alias names a function (or class) body binds locally by any means but a dbos import."""
        aliases = self.aliases
        names: set[str] = set()
        declared: set[str] = set()
        if args is not None:
            for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
                if arg is not None and arg.arg in aliases:
                    names.add(arg.arg)
        stack: list[ast.AST] = [st for st in body if self._overlaps(st)]
        while stack:
            node = stack.pop()
            t = type(node)
            if t is ast.Name:
                if node.id in aliases and type(node.ctx) is not ast.Load:
                    names.add(node.id)
                continue
            if t in _FUNCS or t is ast.ClassDef:
                if node.name in aliases:
                    names.add(node.name)
                continue  # its own scope
            if t is ast.Lambda or t in _COMPS:
                continue
            if t is ast.Global or t is ast.Nonlocal:
                declared.update(node.names)
                continue
            if t is ast.Import or t is ast.ImportFrom:
                if id(node) not in self.dbos_imports:
                    for alias in node.names:
                        bound = alias.asname or alias.name.split(".")[0]
                        if bound in aliases:
                            names.add(bound)
                continue
            if t is ast.ExceptHandler or t is ast.MatchAs or t is ast.MatchStar:
                if node.name in aliases:
                    names.add(node.name)
            elif t is ast.MatchMapping and node.rest in aliases:
                names.add(node.rest)
            stack.extend(ast.iter_child_nodes(node))
        return frozenset(names - declared)

    def _expr(self, root: ast.AST, eff: frozenset[str]) -> None:
        aliases = self.aliases
        stack: list[tuple[ast.AST, frozenset[str]]] = [(root, eff)]
        while stack:
            node, eff = stack.pop()
            t = type(node)
            if t is ast.Attribute:
                chain: list[ast.Attribute] = []
                base: ast.AST = node
                while type(base) is ast.Attribute:
                    chain.append(base)
                    base = base.value
                if type(base) is ast.Name:
                    if base.id in aliases and base.id not in eff:
                        chain.reverse()  # innermost (DBOS.x) first
                        self._use(base, chain)
                else:
                    stack.append((base, eff))
                continue
            if t is ast.Name:
                if node.id in aliases and node.id not in eff and type(node.ctx) is ast.Load:
                    self._use(node, [])
                continue
            if t is ast.Lambda:
                for default in (*node.args.defaults, *node.args.kw_defaults):
                    if default is not None:
                        stack.append((default, eff))
                params = {a.arg for a in (*node.args.posonlyargs, *node.args.args, node.args.vararg,
                                          *node.args.kwonlyargs, node.args.kwarg) if a is not None}
                stack.append((node.body, eff | (params & aliases.keys())))
                continue
            if t in _COMPS:
                gens = node.generators
                stack.append((gens[0].iter, eff))  # evaluated in the enclosing scope
                bound = {n.id for g in gens for n in ast.walk(g.target) if type(n) is ast.Name}
                inner = eff | (bound & aliases.keys())
                for i, gen in enumerate(gens):
                    if i:
                        stack.append((gen.iter, inner))
                    stack.extend((cond, inner) for cond in gen.ifs)
                if t is ast.DictComp:
                    stack.append((node.key, inner))
                    stack.append((node.value, inner))
                else:
                    stack.append((node.elt, inner))
                continue
            stack.extend((child, eff) for child in ast.iter_child_nodes(node))

    def _use(self, base: ast.Name, chain: list[ast.Attribute]) -> None:
        target = self.aliases[base.id]
        attrs = tuple(a.attr for a in chain)
        classified = _classify(target + attrs)
        if classified is None:
            return
        consumed, name = classified
        depth = consumed - len(target)  # how many attributes of the chain the API name covers
        end: ast.AST = chain[depth - 1] if depth > 0 else base
        api: DbosApi | None = BY_NAME.get(name)
        code = api.code if api is not None else OTHER_CODE
        note = "" if api is not None else " (not in the DBOS API table)"
        self._add(base, end, code, name, Kind.API, f"`{name}`{note}: {rules()[code].summary}")

    # -- comments -------------------------------------------------------------------------------------
    def _comments(self, has_todo: bool) -> None:
        noqa: dict[int, frozenset[str] | None] = {}  # line -> codes, None for a bare ``# noqa``
        for line, column, comment in _comment_tokens(self.text):
            if has_todo and _TODO_HINT in comment:
                self._todo(line, column, comment)
            m = _NOQA.search(comment)
            if m:
                codes = m.group("codes")
                if codes is None:
                    noqa[line] = None
                elif noqa.get(line, frozenset()) is not None:
                    noqa[line] = noqa.get(line, frozenset()) | frozenset(re.split(r"[\s,]+", codes.strip()))
        if not noqa:
            return
        kept: list[Finding] = []
        for f in self.findings:
            if _suppressed(noqa, f.line, f.code) or (f.end_line != f.line and _suppressed(noqa, f.end_line, f.code)):
                self.result.suppressed += 1
            else:
                kept.append(f)
        self.findings = kept

    def _todo(self, line: int, column: int, comment: str) -> None:
        m = TODO_PATTERN.search(comment) or _LOOSE_TODO.search(comment)
        if not m:
            return
        code = m.group("code")
        reason = m.group("reason").strip()
        rule = rules().get(code)
        start = column + m.start()
        self.findings.append(
            Finding(
                path=self.path,
                line=line,
                column=start + 1,
                end_line=line,
                end_column=column + len(comment.rstrip()) + 1,
                code=code if rule is not None else OTHER_CODE,
                name=TODO_NAME,
                kind=Kind.TODO,
                message=f"migration TODO{'' if rule else f' ({code}, an unknown code)'}: {reason or '(no reason given)'}",
                fixable=False,
            )
        )


def _suppressed(noqa: dict[int, frozenset[str] | None], line: int, code: str) -> bool:
    if line not in noqa:
        return False
    codes = noqa[line]
    return codes is None or code in codes


def _comment_tokens(text: str) -> Iterable[tuple[int, int, str]]:
    """(line, 0-based character column, text) of every comment. The file already parsed, so tokenize
    succeeds; should it not, the comments read so far are all there is."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.start[1], tok.string
    except (tokenize.TokenError, SyntaxError):  # pragma: no cover - ast accepted the file
        return


def _stmt_lists(st: ast.stmt) -> Iterable[list[ast.stmt]]:
    """The statement lists nested in a compound statement (bodies, else/finally, handlers, match cases)."""
    for field in ("body", "orelse", "finalbody"):
        value = getattr(st, field, None)
        if value:
            yield value
    for handler in getattr(st, "handlers", ()):
        yield handler.body
    for case in getattr(st, "cases", ()):
        yield case.body
