"""From start/end/span probabilities to entities: thresholds, then overlap resolution."""
from typing import List, Tuple, Union

import numpy

Prediction = Tuple[int, int, int, float]  # start, end (exclusive), type index, score


def candidate_spans(start_p: numpy.ndarray, end_p: numpy.ndarray, span_p: numpy.ndarray,
                    threshold: Union[float, numpy.ndarray]) -> List[Prediction]:
    """Every span whose start, end and span probabilities all pass the threshold of its type
    (one number, or one per type), best first.

    start_p, end_p: [n_tokens, n_types]; span_p: [n_tokens, max_width, n_types] where
    (i, w) is the span from token i to token i + w inclusive. The score is the span probability.
    """
    n, width = span_p.shape[0], span_p.shape[1]
    if n == 0 or span_p.shape[2] == 0:
        return []
    last = numpy.arange(n)[:, None] + numpy.arange(width)[None, :]  # [n, W]
    inside = last < n
    last = numpy.minimum(last, n - 1)
    passes = (
        (span_p > threshold)
        & (start_p[:, None, :] > threshold)
        & (end_p[last] > threshold)
        & inside[:, :, None]
    )
    i, w, t = numpy.nonzero(passes)
    scores = span_p[i, w, t]
    order = numpy.argsort(-scores, kind="stable")
    return [(int(i[k]), int(i[k] + w[k] + 1), int(t[k]), float(scores[k])) for k in order]


def resolve_overlaps(candidates: List[Prediction], n_tokens: int) -> List[Prediction]:
    """Greedy: keep the highest-scoring span, drop every span that overlaps a kept one."""
    taken = numpy.zeros(n_tokens, dtype=bool)
    kept = []
    for start, end, t, score in candidates:
        if not taken[start:end].any():
            taken[start:end] = True
            kept.append((start, end, t, score))
    return sorted(kept)


def decode(start_p, end_p, span_p, threshold: Union[float, numpy.ndarray], flat: bool) -> List[Prediction]:
    candidates = candidate_spans(start_p, end_p, span_p, threshold)
    if flat:
        return resolve_overlaps(candidates, start_p.shape[0])
    return sorted(candidates)
