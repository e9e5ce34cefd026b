"""Tag sequences (IOB1, IOB2, BIOES, BILUO) to entity spans, with every problem located.

Repairs, counted and reported in a warning rather than raised, follow what the major
toolkits do with the same inputs: an inside tag that does not continue an entity of its
type starts one (IOB2/BIOES/BILUO), and an unfinished BIOES/BILUO entity ends at the last
token that continues it.
"""
from typing import List, Optional, Sequence, Tuple

from .errors import CorpusFormatError, RepairLog
from ..errors import UserInputError

SCHEMES = {
    "iob1": {"B", "I"},
    "iob2": {"B", "I"},
    "bio": {"B", "I"},
    "bioes": {"B", "I", "O", "E", "S"},
    "biluo": {"B", "I", "L", "U"},
    "bilou": {"B", "I", "L", "U"},
}
# Prefixes that open (begin), continue, close, or are single-token entities in each scheme.
_SINGLE = {"S", "U"}
_LAST = {"E", "L"}

Entity = Tuple[int, int, str]


def split_tag(tag: str) -> Tuple[str, Optional[str]]:
    if tag == "O":
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or not label or len(prefix) != 1:
        return tag, None
    return prefix, label


def tags_to_spans(
    tags: Sequence[str],
    scheme: str,
    source: str,
    lines: Optional[Sequence[int]] = None,
    repairs: Optional[RepairLog] = None,
) -> List[Entity]:
    """Entities as (start, end, label) with exclusive ends.

    lines: the input line of each tag, for error messages.
    """
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise UserInputError(
            f"Unknown tag scheme '{scheme}': expected one of {', '.join(sorted(SCHEMES))}"
        )
    allowed = SCHEMES[scheme]
    repairs = repairs if repairs is not None else RepairLog(source)

    def where(i: int):
        return lines[i] if lines is not None else f"token {i}"

    spans: List[Entity] = []
    start, label = None, None  # the open entity

    closing_scheme = scheme in ("bioes", "biluo", "bilou")

    def close(end: int):
        nonlocal start, label
        if start is not None:
            spans.append((start, end, label))
        start, label = None, None

    def close_early(i: int):
        """Close an open entity at token i, where a closing scheme wanted its E-/L- tag first."""
        if start is not None and closing_scheme:
            repairs.add("entity not closed by an E-/L- tag", f"line {where(max(i - 1, 0))}")
        close(i)

    for i, tag in enumerate(tags):
        prefix, tag_label = split_tag(tag)
        if prefix == "O":
            close_early(i)
            continue
        if tag_label is None or prefix not in allowed:
            raise CorpusFormatError(
                source,
                where(i),
                f"tag '{tag}' is not valid in the {scheme.upper()} scheme "
                f"(expected 'O' or one of {sorted(allowed)} followed by '-LABEL')",
            )
        continues = start is not None and label == tag_label
        if scheme == "iob1":
            # IOB1: I- opens an entity unless it continues one of its type; B- only
            # separates two adjacent entities of the same type.
            if prefix == "B" or not continues:
                close(i)
                start, label = i, tag_label
            continue
        if prefix in _SINGLE:
            close_early(i)
            spans.append((i, i + 1, tag_label))
            continue
        if prefix == "B":
            close_early(i)
            start, label = i, tag_label
        elif not continues:  # I, E or L without an open entity of this type
            repairs.add(f"'{tag}' does not continue an entity; it starts one", f"line {where(i)}")
            close_early(i)
            start, label = i, tag_label
        if prefix in _LAST:
            close(i + 1)
    close_early(len(tags))
    return spans


def spans_to_iob2(n_tokens: int, spans: Sequence[Entity]) -> List[str]:
    tags = ["O"] * n_tokens
    for start, end, label in spans:
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"I-{label}"
    return tags
