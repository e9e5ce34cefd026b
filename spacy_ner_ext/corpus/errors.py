"""Errors and repair counts for corpus input, always naming where the problem is."""
import warnings
from collections import Counter
from typing import Union

from ..errors import UserInputError


class CorpusFormatError(UserInputError):
    """Input that cannot be read as asked: the message names the file and line or example."""

    def __init__(self, source: str, where: Union[str, int, None], problem: str):
        self.source = str(source)
        self.where = where
        self.problem = problem
        location = self.source
        if isinstance(where, int):
            location += f", line {where}"
        elif where:
            location += f", {where}"
        super().__init__(f"{location}: {problem}")


class CorpusWarning(UserWarning):
    """A documented repair of the input, or mentions that could not be placed."""


class RepairLog:
    """Counts repairs by kind and reports them once, with the first place each was made."""

    def __init__(self, source: str):
        self.source = str(source)
        self.counts: Counter = Counter()
        self.first: dict = {}

    def add(self, kind: str, where: str) -> None:
        self.counts[kind] += 1
        self.first.setdefault(kind, where)

    def warn(self) -> None:
        for kind, n in self.counts.items():
            warnings.warn(
                f"{self.source}: {kind}: repaired {n} time(s) (first at {self.first[kind]})",
                CorpusWarning,
                stacklevel=3,
            )
