"""Raw annotations: a text and its entity strings with labels, no offsets.

Each mention is placed at every exact occurrence (on token boundaries, case-sensitive);
a mention with no exact occurrence is placed at every token window whose rapidfuzz ratio
with it reaches `fuzzy_threshold`. Mentions found nowhere are reported by example id.

Input: JSONL lines `{"id", "text", "entities": [{"text", "label"}]}` (or `[text, label]` pairs).
"""
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

from rapidfuzz import fuzz, process, utils
from spacy.language import Language
from spacy.tokens import Doc, Span

from .errors import CorpusFormatError, CorpusWarning, RepairLog
from .jsonl import iter_jsonl
from .spans import take_docs, set_entities


@dataclass
class MatchReport:
    exact: int = 0
    fuzzy: int = 0
    unmatched: List[Tuple[str, str, str]] = field(default_factory=list)  # (id, mention, label)


def find_exact(doc: Doc, mention: str) -> List[Tuple[int, int]]:
    """Token spans of every exact occurrence of `mention` that falls on token boundaries."""
    found = []
    for m in re.finditer(re.escape(mention), doc.text):
        span = doc.char_span(m.start(), m.end())
        if span is not None:
            found.append((span.start, span.end))
    return found


def find_fuzzy(doc: Doc, mention: str, threshold: float) -> List[Tuple[int, int, float]]:
    """Non-overlapping token windows similar to `mention`, best first.

    Windows are one token shorter to one token longer than the mention, so that a missing
    or extra word (an article, a title) still matches.
    """
    n = max(1, len(mention.split()))
    windows = [
        (i, i + size)
        for size in range(max(1, n - 1), n + 2)
        for i in range(0, len(doc) - size + 1)
    ]
    if not windows:
        return []
    choices = [doc[s:e].text for s, e in windows]
    hits = process.extract(
        mention, choices, scorer=fuzz.ratio, processor=utils.default_process,
        score_cutoff=threshold, limit=None,
    )
    taken = [False] * len(doc)
    found = []
    # Best score first; on ties the window closest to the mention's length.
    for _, score, idx in sorted(hits, key=lambda h: (-h[1], abs(windows[h[2]][1] - windows[h[2]][0] - n))):
        s, e = windows[idx]
        if not any(taken[s:e]):
            taken[s:e] = [True] * (e - s)
            found.append((s, e, score))
    return found


def match_mentions(
    doc: Doc,
    mentions: Sequence[Tuple[str, str]],
    example_id: str,
    fuzzy_threshold: float,
    report: MatchReport,
) -> List[Span]:
    spans = []
    for text, label in mentions:
        exact = find_exact(doc, text)
        if exact:
            report.exact += len(exact)
            spans.extend(Span(doc, s, e, label=label) for s, e in exact)
            continue
        fuzzy = find_fuzzy(doc, text, fuzzy_threshold) if fuzzy_threshold < 100 else []
        if fuzzy:
            report.fuzzy += len(fuzzy)
            spans.extend(Span(doc, s, e, label=label) for s, e, _ in fuzzy)
        else:
            report.unmatched.append((example_id, text, label))
    return spans


def _mentions(obj: dict, source: str, where: str) -> List[Tuple[str, str]]:
    items = obj.get("entities")
    if not isinstance(items, list):
        raise CorpusFormatError(source, where, "'entities' must be a list")
    mentions = []
    for item in items:
        if isinstance(item, dict):
            text, label = item.get("text"), item.get("label")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            text, label = item
        else:
            text = label = None
        if not (isinstance(text, str) and text.strip() and isinstance(label, str) and label):
            raise CorpusFormatError(source, where, f"entity {item!r} needs a non-empty 'text' and 'label'")
        mentions.append((text.strip(), label))
    return mentions


def read_raw_annotations(
    path: Union[str, Path],
    nlp: Language,
    fuzzy_threshold: float = 90.0,
    on_overlap: str = "keep_longest",
    strict: bool = False,
    limit: int = 0,
    report: Optional[MatchReport] = None,
) -> List[Doc]:
    """Docs with the mentions placed. Unmatched mentions are listed in a warning (with
    `strict=True`, an error); the `report` passed in, if any, gets the counts."""
    report = report if report is not None else MatchReport()
    repairs = RepairLog(path)

    def parse():
        for lineno, obj in iter_jsonl(path):
            example_id = str(obj.get("id", f"line {lineno}"))
            where = f"line {lineno} (id {example_id!r})"
            if not isinstance(obj.get("text"), str):
                raise CorpusFormatError(path, where, "'text' must be a string")
            doc = nlp.make_doc(obj["text"])
            doc.user_data["id"] = example_id
            spans = match_mentions(doc, _mentions(obj, str(path), where), example_id, fuzzy_threshold, report)
            yield set_entities(doc, spans, str(path), where, on_overlap, repairs)

    docs = take_docs(path, parse(), limit, repairs)
    if report.unmatched:
        listed = "; ".join(f"id {i!r}: {m!r} ({label})" for i, m, label in report.unmatched[:20])
        more = len(report.unmatched) - 20
        message = (
            f"{path}: {len(report.unmatched)} mention(s) not found in their text "
            f"(fuzzy threshold {fuzzy_threshold}): {listed}" + (f" and {more} more" if more > 0 else "")
        )
        if strict:
            raise CorpusFormatError(path, None, message.split(": ", 1)[1])
        warnings.warn(message, CorpusWarning, stacklevel=2)
    return docs
