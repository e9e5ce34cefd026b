"""Loss ablation: one config trained with each loss of the registry for the same step budget,
scored per type, with training speed, as one JSON table and one bar chart."""
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional, Sequence

import spacy
from spacy.tokens import Doc

from .fewshot import score_pipeline

# The losses compared by default: each replaces `[components.<component>.loss]`.
LOSSES: Dict[str, Optional[Dict]] = {
    "cross_entropy": {"@losses": "spacy_ner_ext.cross_entropy.v1"},
    "label_smoothing": {"@losses": "spacy_ner_ext.label_smoothing.v1", "smoothing": 0.1},
    "focal": {"@losses": "spacy_ner_ext.focal.v1", "gamma": 2.0, "alpha": None},
    "dice": {"@losses": "spacy_ner_ext.dice.v1", "smooth": 1.0, "ignore_o": False},
    "ce+soft_iou": {"@losses": "spacy_ner_ext.compound.v1", "weights": [1.0, 1.0],
                    "*": {"ce": {"@losses": "spacy_ner_ext.cross_entropy.v1"},
                          "iou": {"@losses": "spacy_ner_ext.soft_iou.v1"}}},
}


def run_ablation(config: Path, losses: Sequence[str], test_docs: Sequence[Doc], steps: int, overrides: Dict,
                 component: str = "token_ner", gpu_id: int = -1) -> Dict:
    from spacy.cli.train import train

    unknown = [name for name in losses if name not in LOSSES]
    if unknown:
        raise ValueError(f"Unknown loss(es) {', '.join(unknown)}: choose from {', '.join(LOSSES)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in losses:
            run_overrides = dict(overrides, **{"training.max_steps": steps, f"components.{component}.loss": LOSSES[name]})
            started = time.perf_counter()
            train(config, Path(tmp) / name, overrides=run_overrides, use_gpu=gpu_id)
            seconds = time.perf_counter() - started
            nlp = spacy.load(Path(tmp) / name / "model-last")
            scores = score_pipeline(nlp, test_docs)
            rows.append({"loss": name, "f1": scores["test_metrics"]["f1"], "per_type": scores["per_type"],
                         "train_seconds": round(seconds, 1), "words_per_second": scores["speed"]["words_per_second"]})
    return {"config": str(config), "steps": steps, "rows": rows}


def plot_ablation(result: Dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    labels = sorted({t for r in rows for t in r["per_type"]})
    series = ["overall"] + labels
    width = 0.8 / len(rows)
    fig, ax = plt.subplots(figsize=(max(6, 1.5 * len(series)), 4))
    for i, row in enumerate(rows):
        values = [row["f1"]] + [row["per_type"].get(t, {}).get("f1", 0.0) for t in labels]
        ax.bar([x + i * width for x in range(len(series))], [100 * v for v in values], width, label=row["loss"])
    ax.set_xticks([x + width * (len(rows) - 1) / 2 for x in range(len(series))], series)
    ax.set_ylabel("F1")
    ax.set_title(f"Loss ablation: {Path(result['config']).name}, {result['steps']} steps")
    ax.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
