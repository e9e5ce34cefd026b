"""Train-and-score runs for the few-shot and ablation commands.

Each run is `spacy train` then this package's `evaluate`, both in a fresh Python process: the
memory a training grows to (several GB with a transformer) goes back when it ends, a failure
names its run, and independent runs can share a machine (`jobs` at a time: CPU cores, or one
GPU that several small trainings fit on).
"""
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

import srsly
from spacy.util import load_config
from tqdm import tqdm

from ..training.run_log import log_overrides

LOG_TAIL_LINES = 30


@dataclass
class Run:
    name: str
    config: Path
    overrides: Dict = field(default_factory=dict)


class RunFailed(RuntimeError):
    pass


def _call(command: List[str], log: Path, run: Run, step: str) -> None:
    with log.open("w", encoding="utf8") as out:
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf8").splitlines()[-LOG_TAIL_LINES:])
        raise RunFailed(f"run {run.name!r} ({run.config}): {step} exited with {code}; end of {log}:\n{tail}")


def train_and_score(run: Run, test_data: Path, folder: Path, gpu_id: int = -1) -> Dict:
    """Train `run` into folder/<name> and score its model-last on test_data; returns the scores
    (evaluate's JSON) with the training time."""
    output = folder / run.name
    output.mkdir(parents=True, exist_ok=True)
    # Overrides may replace whole sections (a loss), which the command line cannot express.
    config = load_config(run.config, overrides=run.overrides, interpolate=False)
    config = load_config(run.config, overrides={**log_overrides(config, output), **run.overrides}, interpolate=False)
    config_path = output / "run.cfg"
    config.to_disk(config_path)
    started = time.perf_counter()
    _call([sys.executable, "-m", "spacy", "train", str(config_path), "--output", str(output),
           "--gpu-id", str(gpu_id)], output / "train.log", run, "spacy train")
    train_seconds = time.perf_counter() - started
    scores_path = output / "scores.json"
    _call([sys.executable, "-m", "spacy_ner_ext", "evaluate", str(output / "model-last"), str(test_data),
           "--output", str(scores_path), "--gpu-id", str(gpu_id)], output / "evaluate.log", run, "evaluate")
    scores = srsly.read_json(scores_path)
    scores["train_seconds"] = round(train_seconds, 1)
    # What the trained pipeline says it was trained with, read back from its own config.
    trained = load_config(output / "model-last" / "config.cfg", interpolate=False)
    scores["trained_losses"] = {name: dict(component["loss"]) for name, component in trained["components"].items()
                                if isinstance(component.get("loss"), dict)}
    return scores


def run_all(runs: Sequence[Run], test_data: Path, folder: Path, gpu_id: int = -1, jobs: int = 1,
            desc: str = "runs") -> List[Dict]:
    """Scores of every run, in the order given. With jobs > 1 the runs overlap, so their
    training times and prediction speeds are not comparable with each other: time speed with
    the benchmark command."""
    names = [run.name for run in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"run names must be unique: {names}")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(train_and_score, run, test_data, folder, gpu_id) for run in runs]
        return [future.result() for future in tqdm(futures, desc=desc, unit="run", disable=None)]
