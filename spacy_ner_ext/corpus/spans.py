"""Putting labelled offsets onto a Doc: token or character offsets, flat or nested."""
from itertools import islice
from typing import Iterable, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from .errors import CorpusFormatError, RepairLog
from ..errors import UserInputError

SPANS_KEY = "sc"
OVERLAP_POLICIES = ("error", "keep_longest")


def trim_whitespace(doc: Doc, start: int, end: int) -> Tuple[int, int]:
    """(start, end) without the whitespace tokens at either end (start == end: only whitespace)."""
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    return start, end


def _field(item, name: str, source: str, where: str):
    if not isinstance(item, dict) or name not in item:
        raise CorpusFormatError(source, where, f"span {item!r} has no '{name}'")
    return item[name]


def make_spans(
    doc: Doc,
    items: Iterable[dict],
    unit: str,
    source: str,
    where: str,
    alignment_mode: str = "strict",
) -> List[Span]:
    """Spans from dicts `{start, end, label}` with exclusive ends, in tokens or characters."""
    spans = []
    limit = len(doc) if unit == "tokens" else len(doc.text)
    for item in items:
        start = _field(item, "start", source, where)
        end = _field(item, "end", source, where)
        label = _field(item, "label", source, where)
        if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int) \
                or not isinstance(label, str) or not label.strip():
            raise CorpusFormatError(source, where, f"span {item!r}: start and end must be integers and label a non-empty string")
        if not 0 <= start < end <= limit:
            raise CorpusFormatError(
                source, where, f"span {item!r} is out of range: the example has {limit} {unit}"
            )
        if unit == "tokens":
            span = Span(doc, start, end, label=label)
        else:
            span = doc.char_span(start, end, label=label, alignment_mode=alignment_mode)
            if span is None:
                raise CorpusFormatError(
                    source, where,
                    f"character span {item!r} ({doc.text[start:end]!r}) does not fall on token "
                    "boundaries; fix the offsets or read with alignment_mode 'expand' or 'contract'",
                )
        spans.append(span)
    return spans


def set_entities(
    doc: Doc,
    spans: Sequence[Span],
    source: str,
    where: str,
    on_overlap: str = "error",
    repairs: Optional[RepairLog] = None,
) -> Doc:
    """All spans go to `doc.spans["sc"]`; `doc.ents` gets them when they do not overlap, or
    the longest of each overlapping group with `on_overlap="keep_longest"`."""
    if on_overlap not in OVERLAP_POLICIES:
        raise UserInputError(f"on_overlap must be one of {OVERLAP_POLICIES}, not {on_overlap!r}")
    # No entity starts or ends on a whitespace token, gold ones included: such tokens are
    # trimmed off, and an entity of whitespace alone is dropped (each a counted repair).
    kept = set()
    for span in spans:
        start, end = trim_whitespace(doc, span.start, span.end)
        if (start, end) != (span.start, span.end) and repairs is not None:
            repairs.add("entities on whitespace tokens: " + ("dropped" if start == end else "trimmed to their words"),
                        where)
        if start < end:
            kept.add((start, end, span.label_))
    spans = [Span(doc, s, e, label=label) for s, e, label in sorted(kept)]
    doc.spans[SPANS_KEY] = spans
    flat = filter_spans(spans)
    if len(flat) < len(spans):
        if on_overlap == "error":
            a, b = first_overlap(spans)
            raise CorpusFormatError(
                source, where,
                f"overlapping entities {a.text!r} ({a.label_}, tokens {a.start}-{a.end}) and "
                f"{b.text!r} ({b.label_}, tokens {b.start}-{b.end}) cannot both be in doc.ents; "
                "read with on_overlap='keep_longest' to keep the longest",
            )
        if repairs is not None:
            repairs.add("overlapping entities: kept the longest in doc.ents (all stay in doc.spans['sc'])", where)
    doc.ents = flat
    return doc


def first_overlap(spans: Sequence[Span]) -> Tuple[Span, Span]:
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.end:
            return a, b
    raise ValueError("no overlap")


def take_docs(path, docs: Iterable[Doc], limit: int, repairs: RepairLog) -> List[Doc]:
    """The first `limit` docs (0: all); input with none is an error; repairs are reported."""
    taken = list(islice(docs, limit or None))
    if not taken:
        raise CorpusFormatError(path, None, "no examples found")
    repairs.warn()
    return taken
