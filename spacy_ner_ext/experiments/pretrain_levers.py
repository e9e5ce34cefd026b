"""What each lever of the pretraining recipe costs: words/s and peak memory of a short
pretraining per setting, each in its own process (so its peak memory is its own), on the
same mixture, config and step budget."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import srsly

from ..errors import UserInputError

JOINT_TYPE_ENCODER = {"@architectures": "spacy_ner_ext.TransformerTypeEncoder.v1",
                      "name": "sentence-transformers/all-MiniLM-L6-v2", "max_length": 64}
WORD_BATCHES = {"@batchers": "spacy.batch_by_words.v1", "size": 2000, "tolerance": 0.2, "discard_oversize": False}

# name -> config overrides of the recipe (configs/universal.cfg)
LEVERS: Dict[str, Dict] = {
    "recipe": {},
    "all layers train": {"training.before_update.trainable_layers": -1},
    "top 1 layer trains": {"training.before_update.trainable_layers": 1},
    "batches by words, not padded": {"training.batcher": WORD_BATCHES},
    "batches of 4000 padded tokens": {"training.batcher.size": 4000},
    "max_span_length 12": {"components.span_ner.model.max_span_length": 12},
    "at most 64 annotated negative types a batch": {"components.span_ner.annotated_negatives": 64},
    "jointly trained type encoder": {"components.span_ner.model.type_encoder": JOINT_TYPE_ENCODER},
    "foreign types at 0.1, 32 sampled": {"components.span_ner.foreign_type_weight": 0.1,
                                         "components.span_ner.negative_types": 32},
}


def _override_args(overrides: Dict) -> List[str]:
    args = []
    for key, value in overrides.items():
        args += [f"--{key}", json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else str(value)]
    return args


def measure_lever(config: Path, name: str, overrides: Dict, steps: int, workdir: Path,
                  base_overrides: Dict) -> Dict:
    out = workdir / name.replace(" ", "_").replace(",", "")
    command = [sys.executable, "-m", "spacy_ner_ext", "pretrain", str(config), str(out), "--max-steps", str(steps),
               "--log-every", str(max(1, steps // 4)), *_override_args({**base_overrides, **overrides})]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UserInputError(f"the lever {name!r} failed: {tail[0]}")
    summary = srsly.read_json(out / "pretrain_summary.json")
    return {"lever": name, "overrides": overrides, "steps": summary["step"], "words": summary["words"],
            "train_seconds": round(summary["train_seconds"], 1), "words_per_second": summary["words_per_second"],
            "peak_rss_mb": round(summary["peak_rss_mb"], 1)}


def measure_levers(config: Path, levers: List[str], steps: int, base_overrides: Dict,
                   workdir: Optional[Path] = None, log=print) -> Dict:
    unknown = [name for name in levers if name not in LEVERS]
    if unknown:
        raise UserInputError(f"unknown lever(s) {unknown}: choose from {list(LEVERS)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = workdir or Path(tmp)
        for name in levers:
            row = measure_lever(config, name, LEVERS[name], steps, root, base_overrides)
            log(f"{name}: {row['words_per_second']:.0f} words/s, peak RSS {row['peak_rss_mb']:.0f} MB")
            rows.append(row)
    base = next((r["words_per_second"] for r in rows if r["lever"] == "recipe"), None)
    for row in rows:
        row["speed_vs_recipe"] = round(row["words_per_second"] / base, 2) if base else None
    return {"config": str(config), "steps": steps, "base_overrides": base_overrides, "levers": rows}
