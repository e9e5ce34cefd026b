"""Scoring docs of mixed lengths with memory that follows the tokens, not batch x longest.

The torch scorers see a padded [batch, longest, ...] tensor (span_ner's is [batch, longest,
max_span_length, hidden]), so one long doc among short ones would pad every row to its length.
Docs are cut into pieces of at most `max_tokens` positions (with `context` tokens more, which
span_ner needs: a span that starts in one piece may end in the next), and the pieces are
grouped by length so that each group's padded size, rows x longest, stays within `max_tokens`.
Every position is scored from its own token vectors alone, so the cut changes no score.
"""
from dataclasses import dataclass
from typing import Callable, List, Sequence, Tuple

import numpy


@dataclass(frozen=True)
class Piece:
    doc: int
    start: int  # the first position this piece scores
    stop: int  # one past the last position it scores
    end: int  # one past the last token it reads (stop + context, within the doc)


def cut_pieces(lengths: Sequence[int], max_tokens: int, context: int = 0) -> List[Piece]:
    """Each doc as pieces scoring at most max_tokens - context positions; empty docs have none."""
    if max_tokens < 1 or context < 0 or context >= max_tokens:
        raise ValueError(f"need 0 <= context < max_tokens, not context={context}, max_tokens={max_tokens}")
    step = max_tokens - context
    return [Piece(i, a, min(a + step, n), min(a + step + context, n))
            for i, n in enumerate(lengths) for a in range(0, n, step)]


def group_by_length(sizes: Sequence[int], max_tokens: int) -> List[List[int]]:
    """Indices into `sizes`, longest first, in groups whose rows x longest <= max_tokens."""
    groups: List[List[int]] = []
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        if groups and (len(groups[-1]) + 1) * sizes[groups[-1][0]] <= max_tokens:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def score_in_pieces(vectors: Sequence[numpy.ndarray], score: Callable[[List[numpy.ndarray]], Tuple],
                    max_tokens: int, context: int = 0) -> List[Tuple[numpy.ndarray, ...]]:
    """Per-doc outputs of `score`, run over length-grouped pieces of the docs' token vectors.

    score: list of [n_i, width] arrays -> a tuple of arrays whose first two axes are
        [piece, position]; the outputs of each doc are joined back along positions.
    Returns one tuple per doc; an empty doc gets None.
    """
    pieces = cut_pieces([len(v) for v in vectors], max_tokens, context)
    parts: List[list] = [[] for _ in vectors]
    for group in group_by_length([p.end - p.start for p in pieces], max_tokens):
        outputs = score([vectors[pieces[k].doc][pieces[k].start:pieces[k].end] for k in group])
        for row, k in enumerate(group):
            piece = pieces[k]
            parts[piece.doc].append((piece.start, tuple(o[row, : piece.stop - piece.start] for o in outputs)))
    joined = []
    for doc_parts in parts:
        if not doc_parts:
            joined.append(None)
            continue
        doc_parts.sort(key=lambda part: part[0])
        n_outputs = len(doc_parts[0][1])
        joined.append(tuple(numpy.concatenate([part[1][j] for part in doc_parts]) for j in range(n_outputs)))
    return joined
