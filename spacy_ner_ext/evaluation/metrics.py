"""Entity-level exact-match precision, recall and F1: micro, macro and per type.

Counts are kept in spaCy's own PRFScore. Predicted entities are aligned to the reference
tokenization the way spaCy's Scorer does it, so pipelines with another tokenizer are scored
on the gold tokens.
"""
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional

from spacy.scorer import PRFScore
from spacy.training import Example

from ..corpus.errors import CorpusFormatError
from ..corpus.io import read_json_file


@dataclass
class EntityScores:
    micro: PRFScore = field(default_factory=PRFScore)
    per_type: Dict[str, PRFScore] = field(default_factory=dict)

    def add(self, gold: set, pred: set) -> None:
        self.micro.score_set(pred, gold)
        for label in {s[2] for s in gold | pred}:
            self.per_type.setdefault(label, PRFScore()).score_set(
                {s for s in pred if s[2] == label}, {s for s in gold if s[2] == label}
            )

    def to_dict(self) -> Dict:
        labels = sorted(self.per_type)
        macro = {
            key: (sum(getattr(self.per_type[l], key) for l in labels) / len(labels)) if labels else 0.0
            for key in ("precision", "recall", "fscore")
        }
        return {
            "test_metrics": {
                "precision": self.micro.precision,
                "recall": self.micro.recall,
                "f1": self.micro.fscore,
                "macro_precision": macro["precision"],
                "macro_recall": macro["recall"],
                "macro_f1": macro["fscore"],
                "gold": self.micro.tp + self.micro.fn,
                "predicted": self.micro.tp + self.micro.fp,
                "correct": self.micro.tp,
            },
            "per_type": {
                label: {
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.fscore,
                    "gold": s.tp + s.fn,
                    "predicted": s.tp + s.fp,
                    "correct": s.tp,
                }
                for label, s in ((l, self.per_type[l]) for l in labels)
            },
        }


def entity_set(example: Example, spans_key: Optional[str] = None):
    """(gold, predicted) sets of (start, end, label) on the reference tokens."""
    ref = example.reference
    gold_spans = ref.spans[spans_key] if spans_key else ref.ents
    pred_spans = example.predicted.spans.get(spans_key, []) if spans_key else example.predicted.ents
    aligned = example.get_aligned_spans_x2y(pred_spans, allow_overlap=bool(spans_key))
    gold = {(s.start, s.end, s.label_) for s in gold_spans}
    pred = {(s.start, s.end, s.label_) for s in aligned}
    return gold, pred


def score_entities(examples: Iterable[Example], spans_key: Optional[str] = None) -> EntityScores:
    scores = EntityScores()
    for example in examples:
        scores.add(*entity_set(example, spans_key))
    return scores


def read_test_results(path) -> Dict:
    """The scores `evaluate` wrote (test_results.json), checked for the fields that plots and
    reports read; anything else is a CorpusFormatError naming the file."""
    results = read_json_file(path)
    metrics = results.get("test_metrics") if isinstance(results, dict) else None
    per_type = results.get("per_type") if isinstance(results, dict) else None
    needed = ("gold", "predicted", "correct", "precision", "recall", "f1", "macro_f1")
    if not isinstance(metrics, dict) or not isinstance(per_type, dict) or any(k not in metrics for k in needed) \
            or not all(isinstance(s, dict) and all(k in s for k in needed[:6]) for s in per_type.values()):
        raise CorpusFormatError(path, None, "not the scores `evaluate` writes (test_metrics and per_type with "
                                "gold, predicted, correct, precision, recall, f1)")
    return results
