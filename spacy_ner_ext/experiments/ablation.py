"""Loss ablation: one config trained with each loss of the registry for the same step budget,
scored per type, with training speed, as one JSON table and one bar chart."""
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence

from .runs import Run, run_all
from ..errors import UserInputError

# The losses compared by default: each replaces `[components.<component>.loss]`.
LOSSES: Dict[str, Optional[Dict]] = {
    "cross_entropy": {"@losses": "spacy_ner_ext.cross_entropy.v1"},
    "label_smoothing": {"@losses": "spacy_ner_ext.label_smoothing.v1", "smoothing": 0.1},
    "focal": {"@losses": "spacy_ner_ext.focal.v1", "gamma": 2.0, "alpha": None},
    "dice": {"@losses": "spacy_ner_ext.dice.v1", "smooth": 1.0, "ignore_o": False},
    "embedding_label_smoothing": {"@losses": "spacy_ner_ext.embedding_label_smoothing.v1", "smoothing": 0.1,
                                  "temperature": 0.5},
    "ce+soft_iou": {"@losses": "spacy_ner_ext.compound.v1", "weights": [1.0, 1.0],
                    "*": {"ce": {"@losses": "spacy_ner_ext.cross_entropy.v1"},
                          "iou": {"@losses": "spacy_ner_ext.soft_iou.v1"}}},
}


def run_ablation(config: Path, losses: Sequence[str], test_data: Path, steps: int, overrides: Dict,
                 component: str = "token_ner", gpu_id: int = -1, jobs: int = 1) -> Dict:
    unknown = [name for name in losses if name not in LOSSES]
    if unknown:
        raise UserInputError(f"Unknown loss(es) {', '.join(unknown)}: choose from {', '.join(LOSSES)}")
    runs = [Run(name, config, dict(overrides, **{"training.max_steps": steps,
                                                  f"components.{component}.loss": LOSSES[name]}))
            for name in losses]
    with tempfile.TemporaryDirectory() as tmp:
        scored = run_all(runs, test_data, Path(tmp), gpu_id, jobs, desc="ablation")
    rows = [{"loss": name, "f1": s["test_metrics"]["f1"], "precision": s["test_metrics"]["precision"],
             "recall": s["test_metrics"]["recall"], "per_type": s["per_type"], "train_seconds": s["train_seconds"],
             "words_per_second": s["speed"]["words_per_second"], "trained_loss": s["trained_losses"].get(component)}
            for name, s in zip(losses, scored)]
    return {"config": str(config), "steps": steps, "component": component, "gpu_id": gpu_id, "jobs": jobs,
            "rows": rows}
