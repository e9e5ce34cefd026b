"""Token type probabilities to entity spans.

Each token takes its most probable entity type; it is inside an entity when that
probability passes the threshold. A maximal run of consecutive tokens with the same type is
one entity, scored by the mean probability of its tokens. The boundary rule: the model
labels tokens, not spans, so two adjacent entities of one type ("Paris Berlin" as two LOC)
come out as one entity; adjacent entities of different types stay apart.
"""
from typing import List, Tuple, Union

import numpy

Prediction = Tuple[int, int, int, float]  # start, end (exclusive), type index, score


def decode_tokens(type_probs: numpy.ndarray, threshold: Union[float, numpy.ndarray]) -> List[Prediction]:
    """type_probs: [n_tokens, n_types], the probability of each entity type (no null column);
    threshold: one number, or one per type (the token's best type must pass its own)."""
    n = type_probs.shape[0]
    if n == 0 or type_probs.shape[1] == 0:
        return []
    best = type_probs.argmax(1)
    best_p = type_probs[numpy.arange(n), best]
    tags = numpy.where(best_p > numpy.broadcast_to(threshold, type_probs.shape[1:])[best], best, -1)
    # A run starts wherever the tag changes.
    change = numpy.flatnonzero(numpy.diff(tags)) + 1
    starts = numpy.concatenate([[0], change])
    ends = numpy.concatenate([change, [n]])
    return [
        (int(s), int(e), int(tags[s]), float(best_p[s:e].mean()))
        for s, e in zip(starts, ends)
        if tags[s] >= 0
    ]
