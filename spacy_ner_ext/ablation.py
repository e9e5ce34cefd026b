"""Loss ablation: one config trained with each loss of the registry for the same step budget,
scored per type, with training speed, as one JSON table and one bar chart."""
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence

from .runs import Run, run_all

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
        raise ValueError(f"Unknown loss(es) {', '.join(unknown)}: choose from {', '.join(LOSSES)}")
    runs = [Run(name, config, dict(overrides, **{"training.max_steps": steps,
                                                  f"components.{component}.loss": LOSSES[name]}))
            for name in losses]
    with tempfile.TemporaryDirectory() as tmp:
        scored = run_all(runs, test_data, Path(tmp), gpu_id, jobs, desc="ablation")
    rows = [{"loss": name, "f1": s["test_metrics"]["f1"], "precision": s["test_metrics"]["precision"],
             "recall": s["test_metrics"]["recall"], "per_type": s["per_type"], "train_seconds": s["train_seconds"],
             "words_per_second": s["speed"]["words_per_second"]} for name, s in zip(losses, scored)]
    return {"config": str(config), "steps": steps, "component": component, "gpu_id": gpu_id, "jobs": jobs,
            "rows": rows}


def plot_ablation(result: Dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    labels = sorted({t for r in rows for t in r["per_type"]})
    series = ["overall"] + labels
    width = 0.8 / len(rows)
    fig, ax = plt.subplots(figsize=(max(6, 1.5 * len(series)), 4.5))
    lowest = 100.0
    for i, row in enumerate(rows):
        values = [100 * row["f1"]] + [100 * row["per_type"].get(t, {}).get("f1", 0.0) for t in labels]
        lowest = min(lowest, *values)
        ax.bar([x + i * width for x in range(len(series))], values, width, label=row["loss"])
    ax.set_xticks([x + width * (len(rows) - 1) / 2 for x in range(len(series))], series)
    # The losses differ by a point or two: an axis from 0 would hide that.
    ax.set_ylim(max(0.0, 10 * (lowest // 10) - 10), 100)
    ax.set_ylabel("test F1")
    ax.set_title(f"Loss ablation: {Path(result['config']).name}, {result['steps']} steps")
    ax.legend(fontsize="small", ncol=min(len(rows), 3), loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
