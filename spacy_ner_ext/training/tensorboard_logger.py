"""TensorBoard for `spacy train`: a logger for `[training.logger]`, and an export of the
event files to CSV (one row per step and metric)."""
import csv
import time
from pathlib import Path
from typing import IO, Callable, Dict, Iterator, List, Optional, Tuple, Union

from spacy.language import Language
from spacy.util import registry

from .jsonl_logger import flatten_scores
from ..errors import UserInputError


def _learn_rate_schedule(nlp: Language) -> Callable[[int], Optional[float]]:
    """The optimizer's learning rate at a step, from a fresh copy of the config's schedule.

    Thinc's v1 schedules are generators that the optimizer advances once per step, so the
    copy is advanced to the step asked for (steps only grow during training)."""
    try:
        rate = registry.resolve({"lr": nlp.config.interpolate()["training"]["optimizer"]["learn_rate"]})["lr"]
    except (KeyError, ValueError):  # a pipeline built in code, with no optimizer in its config
        return lambda step: None
    if isinstance(rate, (int, float)):
        return lambda step: float(rate)
    if callable(rate):  # thinc Schedule objects
        return lambda step: float(rate(step=step))
    state = {"step": -1, "value": None}

    def at(step: int) -> Optional[float]:
        while state["step"] < step:
            try:
                state["value"] = float(next(rate))
            except StopIteration:
                break
            state["step"] += 1
        return state["value"]

    return at


@registry.loggers("spacy_ner_ext.TensorBoardLogger.v1")
def tensorboard_logger_v1(log_dir: str = "training/tensorboard", console: Optional[Callable] = None):
    """log_dir: folder for the event files; console: another logger to chain (spaCy's
    console logger, or spacy_ner_ext.JsonlLogger.v1 which chains it in turn).

    At each evaluation: every component's loss (loss/<name>), every numeric score
    (score/<name>, per type included), the learning rate and training words per second."""

    def setup(nlp: Language, stdout: IO, stderr: IO):
        from torch.utils.tensorboard import SummaryWriter

        inner_step, inner_finalize = console(nlp, stdout, stderr) if console else (None, None)
        writer = SummaryWriter(log_dir=str(log_dir))
        learn_rate = _learn_rate_schedule(nlp)
        started = time.time()

        def log_step(info: Optional[Dict]) -> None:
            if inner_step:
                inner_step(info)
            if info is None:
                return
            step = info["step"]
            for name, value in info["losses"].items():
                writer.add_scalar(f"loss/{name}", float(value), step)
            for name, value in flatten_scores(info["other_scores"]).items():
                writer.add_scalar(f"score/{name}", value, step)
            writer.add_scalar("score/overall", float(info["score"]), step)
            rate = learn_rate(step)
            if rate is not None:
                writer.add_scalar("train/learn_rate", rate, step)
            seconds = time.time() - started
            if seconds > 0:
                writer.add_scalar("train/words_per_second", info["words"] / seconds, step)
            writer.flush()

        def finalize() -> None:
            if inner_finalize:
                inner_finalize()
            writer.close()

        return log_step, finalize

    return setup


def read_scalars(log_dir: Union[str, Path]) -> Iterator[Tuple[str, int, str, float, float]]:
    """(run, step, tag, value, wall_time) for every scalar in every event file below log_dir."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log_dir = Path(log_dir)
    runs = sorted({p.parent for p in log_dir.rglob("events.out.tfevents.*")})
    if not runs:
        raise UserInputError(f"{log_dir}: no TensorBoard event files")
    for run in runs:
        acc = EventAccumulator(str(run), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            for event in acc.Scalars(tag):
                yield str(run.relative_to(log_dir)), event.step, tag, event.value, event.wall_time


def export_csv(log_dir: Union[str, Path], output: Union[str, Path]) -> int:
    rows: List = sorted(read_scalars(log_dir), key=lambda r: (r[0], r[1], r[2]))
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", newline="", encoding="utf8") as f:
        writer = csv.writer(f)
        writer.writerow(["run", "step", "metric", "value", "wall_time"])
        writer.writerows(rows)
    return len(rows)
