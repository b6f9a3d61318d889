"""``--select`` / ``--ignore``: which codes a run reports.

Selectors are code prefixes (``D2R``, ``D2R2``, ``D2R111``) or ``ALL``. As in ruff, the most specific
(longest) matching selector decides; on a tie ``ignore`` wins. So ``--select D2R111 --ignore D2R1`` keeps
D2R111 only from the D2R1xx family.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from codemod.lint.registry import rules

# A prefix of a code of this project's shape (D2R + 3 digits, the first 1 or 2): checked without loading the
# registry; a full code is looked up in it.
_SELECTOR = re.compile(r"ALL|D(?:2(?:R(?:[12]\d{0,2})?)?)?")


class SelectorError(ValueError):
    """A selector that names no rule."""


def normalise(selectors: Iterable[str]) -> tuple[str, ...]:
    """Upper-cased selectors, each checked to match at least one rule; ``SelectorError`` otherwise."""
    out: list[str] = []
    for raw in selectors:
        sel = raw.strip().upper()
        if not sel:
            continue
        if not _SELECTOR.fullmatch(sel) or (len(sel) == 6 and sel not in rules()):
            raise SelectorError(f"unknown rule selector {raw!r}; codes are D2R101..D2R209, or a prefix such as D2R2")
        out.append(sel)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Selection:
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()

    @classmethod
    def of(cls, select: Iterable[str] | None, ignore: Iterable[str] | None) -> Selection:
        chosen = normalise(select) if select is not None else ()
        return cls(select=chosen or ("ALL",), ignore=normalise(ignore or ()))

    def __contains__(self, code: str) -> bool:
        best_select = max((_weight(s) for s in self.select if _matches(s, code)), default=-1)
        best_ignore = max((_weight(s) for s in self.ignore if _matches(s, code)), default=-1)
        return best_select > best_ignore


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def _weight(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)
