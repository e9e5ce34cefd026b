"""Do the entity scores mean what they say? Expected calibration error and the reliability
diagram of predicted entities: among the entities scored about 0.8, are about 80% right?

An entity is right when its start, end and label match a gold entity exactly; its score is the
`Span._.ner_score` the component wrote (span_ner: the span probability; contrastive_ner: the
mean probability of its tokens). Pipelines that write no scores (spaCy's own `ner`) have no
calibration to report.
"""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.training import Example


def entity_confidences(examples: Iterable[Example]) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The score of every predicted entity that has one, and whether it is right."""
    scores: List[float] = []
    correct: List[bool] = []
    for eg in examples:
        gold = {(s.start, s.end, s.label_) for s in eg.reference.ents}
        for ent in eg.predicted.ents:
            if ent._.ner_score is None:
                continue
            aligned = eg.get_aligned_spans_x2y([ent])
            scores.append(float(ent._.ner_score))
            correct.append(bool(aligned) and (aligned[0].start, aligned[0].end, aligned[0].label_) in gold)
    return numpy.asarray(scores, dtype="float64"), numpy.asarray(correct, dtype=bool)


def reliability_bins(scores: numpy.ndarray, correct: numpy.ndarray, n_bins: int = 10) -> List[Dict]:
    """Equal-width score bins over [0, 1]: count, mean score and precision of each non-empty bin."""
    edges = numpy.linspace(0.0, 1.0, n_bins + 1)
    # A score of exactly 1.0 belongs to the last bin.
    index = numpy.clip(numpy.digitize(scores, edges[1:-1], right=True), 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        inside = index == b
        if inside.any():
            bins.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": int(inside.sum()),
                         "mean_score": float(scores[inside].mean()), "precision": float(correct[inside].mean())})
    return bins


def expected_calibration_error(scores: numpy.ndarray, correct: numpy.ndarray, n_bins: int = 10) -> float:
    """Sum over bins of (share of entities) x |precision - mean score|."""
    if not len(scores):
        return float("nan")
    bins = reliability_bins(scores, correct, n_bins)
    return float(sum(b["count"] * abs(b["precision"] - b["mean_score"]) for b in bins) / len(scores))


def calibration_report(examples: Sequence[Example], n_bins: int = 10) -> Optional[Dict]:
    """ECE and the bins, or None when no predicted entity carries a score."""
    scores, correct = entity_confidences(examples)
    if not len(scores):
        return None
    return {"ece": expected_calibration_error(scores, correct, n_bins), "entities": int(len(scores)),
            "precision": float(correct.mean()), "mean_score": float(scores.mean()), "n_bins": n_bins,
            "bins": reliability_bins(scores, correct, n_bins)}
