"""Plots a person would rather look at than read: training curves and per-type F1 bars."""
import json
from pathlib import Path
from typing import Dict, List, Sequence, Union

from .metrics import read_test_results
from ..errors import UserInputError

PathLike = Union[str, Path]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def read_training_log(run_dir: PathLike) -> List[Dict]:
    path = Path(run_dir) / "training_log.jsonl"
    if not path.exists():
        raise UserInputError(f"{path}: no training log (train with spacy_ner_ext.JsonlLogger.v1)")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf8").split("\n"), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise UserInputError(f"{path}, line {number}: invalid JSON ({err.msg})") from None
            record = records[-1]
            if not isinstance(record, dict) or not isinstance(record.get("step"), int) \
                    or not isinstance(record.get("losses"), dict) or "score" not in record:
                raise UserInputError(f"{path}, line {number}: not an evaluation record (step, losses, score)")
    if not records:
        raise UserInputError(f"{path}: no evaluation recorded yet (the run stopped before its first one)")
    return records


def plot_training_curves(run_dirs: Sequence[PathLike], output: PathLike) -> None:
    """Loss per component and dev score by step, one line per run."""
    plt = _pyplot()
    fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(11, 4))
    for run_dir in run_dirs:
        log = read_training_log(run_dir)
        steps = [r["step"] for r in log]
        name = Path(run_dir).name
        for component in log[-1]["losses"]:
            if component == "transformer":
                continue  # its "loss" is the squared gradient it received, not a training loss
            ax_loss.plot(steps, [max(r["losses"].get(component, 0.0), 1e-6) for r in log], marker="o",
                         label=f"{name}: {component}")
        ax_score.plot(steps, [100 * r["scores"].get("ents_f", r["score"]) for r in log], marker="o", label=name)
    ax_loss.set(xlabel="step", ylabel="loss (since the last evaluation)", yscale="log", title="Training loss")
    ax_score.set(xlabel="step", ylabel="dev F1", title="Dev entity F1")
    ax_loss.legend(fontsize="small")
    ax_score.legend(fontsize="small")
    fig.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    plt.close(fig)


def plot_per_type_f1(results: Dict[str, PathLike], output: PathLike) -> None:
    """results: {pipeline name: test_results.json}; grouped bars of F1 per type and overall."""
    plt = _pyplot()
    loaded = {name: read_test_results(path) for name, path in results.items()}
    types = sorted({t for r in loaded.values() for t in r["per_type"]})
    groups = types + ["micro", "macro"]
    width = 0.8 / max(len(loaded), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(groups)), 4))
    for i, (name, r) in enumerate(loaded.items()):
        values = [r["per_type"].get(t, {}).get("f1", 0.0) for t in types]
        values += [r["test_metrics"]["f1"], r["test_metrics"]["macro_f1"]]
        bars = ax.bar([x + i * width for x in range(len(groups))], [100 * v for v in values], width, label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize="x-small")
    ax.set_xticks([x + width * (len(loaded) - 1) / 2 for x in range(len(groups))], groups)
    ax.set(ylabel="test F1", title="Entity F1 per type")
    ax.legend(fontsize="small")
    fig.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    plt.close(fig)


def plot_ablation(result: Dict, path: Path) -> None:
    """Grouped bars: overall and per-type test F1 of each loss of an ablation result."""
    plt = _pyplot()
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


def plot_reliability_diagram(reports: Dict[str, Dict], output: PathLike, title: str = "Reliability diagram") -> None:
    """reports: {name: calibration_report(...)}; precision against mean score per score bin (a
    perfectly calibrated model lies on the diagonal), and beneath it how many entities each bin holds."""
    plt = _pyplot()
    fig, (ax, ax_count) = plt.subplots(2, 1, figsize=(6, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    width = 1.0 / max(len(reports), 1)
    for i, (name, report) in enumerate(reports.items()):
        bins = report["bins"]
        ax.plot([b["mean_score"] for b in bins], [b["precision"] for b in bins], marker="o",
                label=f"{name} (ECE {100 * report['ece']:.2f}, {report['entities']} entities)")
        bin_width = 1.0 / report["n_bins"]
        ax_count.bar([b["lower"] + bin_width * (i + 0.5) * width for b in bins], [b["count"] for b in bins],
                     bin_width * width, label=name)
    ax.set(ylabel="precision of the bin's entities", xlim=(0, 1), ylim=(0, 1.02), title=title)
    ax.legend(fontsize="small", loc="upper left")
    ax_count.set(xlabel="entity score (mean of the bin)", ylabel="entities", yscale="log")
    fig.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    plt.close(fig)
