"""Pretraining that survives being stopped: `spacy train`'s update step, with a checkpoint at
least every few minutes from which the same command goes on, counting its steps on.

A checkpoint is the pipeline (`nlp.to_disk`), the optimizer's moments and update counts
(safetensors, keyed by each parameter's place in the pipeline rather than by Thinc's
process-local ids) and `state.json` (step, position in the data, words seen, time spent). It
is written beside the last one and swapped in by renames, so a run killed while writing keeps
the previous checkpoint. The data order is a seeded shuffle per epoch, so a resumed run
skips the batches it has already trained on and sees the rest of that epoch.
"""
import json
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy
import srsly
from spacy.language import Language
from spacy.training import Example
from spacy.util import fix_random_seed, load_model, registry, resolve_dot_names

from ..errors import UserInputError

CHECKPOINT = "checkpoint"
STATE = "state.json"
OPTIMIZER = "optimizer.safetensors"


@dataclass
class PretrainState:
    step: int = 0
    epoch: int = 0
    learn_rate: float = 0.0  # after the last step
    # Size and modification time of each corpus file: a resumed run on other data is refused.
    data: Dict[str, List] = field(default_factory=dict)
    batch_in_epoch: int = 0  # batches of this epoch already trained on
    words: int = 0
    train_seconds: float = 0.0  # time spent in updates and evaluations, over every run
    runs: int = 0  # how many times the command started on this output
    peak_rss_mb: float = 0.0  # the highest of every run
    best_score: Optional[float] = None
    history: List[Dict] = field(default_factory=list)  # evaluations: step, scores, seconds


@dataclass
class PretrainSettings:
    max_steps: int = 0  # 0: [training] max_steps
    max_minutes: float = 0.0  # training time budget over all runs (0: none)
    checkpoint_minutes: float = 10.0
    eval_every: int = 0  # steps (0: only at the end)
    log_every: int = 10
    # Keep the pipeline as it is after every N training minutes (model-at-<N>min), to compare
    # with other runs at the same budget (0: none).
    snapshot_minutes: float = 0.0


def peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- optimizer state ------------------------------------------------------------------------
def _parameter_places(nlp: Language) -> Dict[Tuple[int, str], str]:
    """Thinc's optimizer keys (node or shim id, parameter name) -> a name that is the same in
    every process that builds this pipeline: pipe / node index in the walk / parameter."""
    places = {}
    for pipe_name, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is None or model is True or model is False:
            continue
        for i, node in enumerate(model.walk()):
            for name in node.param_names:
                places[(node.id, name)] = f"{pipe_name}/{i}/{name}"
            for j, shim in enumerate(node.shims):
                module = getattr(shim, "_model", None)
                if module is not None and hasattr(module, "named_parameters"):
                    for name, _ in module.named_parameters():
                        places[(shim.id, name)] = f"{pipe_name}/{i}/shim{j}/{name}"
    return places


def save_optimizer(optimizer, nlp: Language, path: Path) -> None:
    from safetensors.numpy import save_file
    from thinc.api import get_current_ops

    to_numpy = get_current_ops().to_numpy  # the moments are cupy arrays on a GPU
    places = _parameter_places(nlp)
    tensors, counts = {}, {}
    for key, place in places.items():
        if key in optimizer.mom1:
            tensors[f"mom1/{place}"] = numpy.ascontiguousarray(to_numpy(optimizer.mom1[key]))
            tensors[f"mom2/{place}"] = numpy.ascontiguousarray(to_numpy(optimizer.mom2[key]))
            counts[place] = int(optimizer.nr_update[key])
    save_file(tensors, str(path), metadata={"nr_update": json.dumps(counts)})


def saved_optimizer_parameters(path: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return len(json.loads(f.metadata()["nr_update"]))


def load_optimizer(optimizer, nlp: Language, path: Path) -> int:
    """Restores the moments of every parameter found; returns how many were restored."""
    from safetensors import safe_open

    by_place = {place: key for key, place in _parameter_places(nlp).items()}
    restored = 0
    with safe_open(str(path), framework="numpy") as f:
        counts = json.loads(f.metadata()["nr_update"])
        for place, count in counts.items():
            key = by_place.get(place)
            if key is None:
                continue
            optimizer.mom1[key] = nlp.pipeline[0][1].model.ops.asarray(f.get_tensor(f"mom1/{place}"))
            optimizer.mom2[key] = nlp.pipeline[0][1].model.ops.asarray(f.get_tensor(f"mom2/{place}"))
            optimizer.nr_update[key] = count
            restored += 1
    return restored


# -- checkpoints ----------------------------------------------------------------------------
def _remove(folder: Path) -> None:
    # The state first: a folder without it is never taken for a checkpoint, even half deleted.
    (folder / STATE).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)


def find_checkpoint(output: Path) -> Optional[Path]:
    """The complete checkpoint with the most steps: `checkpoint`, or `checkpoint.new` /
    `checkpoint.old` when a run was killed while swapping a new one in (a folder is complete
    once its state.json is written, which is written last)."""
    found = []
    for rank, name in enumerate((CHECKPOINT, CHECKPOINT + ".new", CHECKPOINT + ".old")):
        path = output / name
        if (path / STATE).exists() and (path / "pipeline" / "config.cfg").exists():
            try:
                step = int(srsly.read_json(path / STATE)["step"])
            except (ValueError, KeyError, TypeError):
                continue
            found.append((step, -rank, path))
    return max(found)[2] if found else None


def promote(path: Path, output: Path) -> Path:
    """The checkpoint a run goes on from, moved to `checkpoint` (so the next swap keeps it)."""
    current = output / CHECKPOINT
    if path != current:
        _remove(current)
        path.rename(current)
    for name in (CHECKPOINT + ".new", CHECKPOINT + ".old"):
        _remove(output / name)
    return current


def write_checkpoint(nlp: Language, optimizer, state: PretrainState, output: Path) -> Path:
    new, current, old = output / (CHECKPOINT + ".new"), output / CHECKPOINT, output / (CHECKPOINT + ".old")
    _remove(new)
    new.mkdir(parents=True)
    nlp.to_disk(new / "pipeline")
    save_optimizer(optimizer, nlp, new / OPTIMIZER)
    # The state last: a folder with state.json is complete.
    srsly.write_json(new / STATE, asdict(state))
    if current.exists():
        _remove(old)
        current.rename(old)
    new.rename(current)
    _remove(old)
    return current


def write_pipeline(nlp: Language, folder: Path) -> None:
    """nlp.to_disk into a folder beside `folder`, then renamed over it: a kill leaves the old
    pipeline or the new one, never half of one."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp)
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def corpus_fingerprint(config) -> Dict[str, List]:
    """[size, modification time] of every corpus file the config reads."""
    prints = {}
    for name, section in config.interpolate().get("corpora", {}).items():
        path = section.get("path") if isinstance(section, dict) else None
        if path and Path(path).exists():
            stat = Path(path).stat()
            prints[name] = [str(path), stat.st_size, stat.st_mtime_ns]
    return prints


UNSUPPORTED = {"frozen_components": [], "annotating_components": [], "accumulate_gradient": 1}


def check_supported(training: Dict, source: Path) -> None:
    """The loop does not do everything spacy train does: refuse what it would ignore."""
    for key, default in UNSUPPORTED.items():
        if training.get(key, default) != default:
            raise UserInputError(f"{source}: [training] {key} = {training[key]!r} is not supported by pretrain "
                                 f"(use spacy train for it)")


# -- data -----------------------------------------------------------------------------------
def epoch_batches(examples: List[Example], batcher: Callable, seed: int, epoch: int) -> Iterator[List[Example]]:
    """The batches of one epoch: the examples in a shuffle seeded by (seed, epoch)."""
    order = list(range(len(examples)))
    random.Random(seed * 100003 + epoch).shuffle(order)
    for batch in batcher(examples[i] for i in order):
        yield list(batch)


def _scores(nlp: Language, examples: List[Example]) -> Dict:
    """Dev P/R/F1 as threshold tuning counts them: on a partially annotated Doc only the
    predictions of the types its source annotates (threshold_tuning.DevScores)."""
    from ..evaluation.threshold_tuning import DevScores, Setting

    name = next((name for name, pipe in nlp.pipeline if hasattr(pipe, "predict_logits")), None)
    if name is None:  # no described types: spaCy's own scores
        scores = nlp.evaluate(examples)
        return {k: scores.get(k) or 0.0 for k in ("ents_f", "ents_p", "ents_r")}
    pipe = nlp.get_pipe(name)
    outcome = DevScores(nlp, examples, name).outcome(Setting(pipe.threshold, pipe.thresholds,
                                                             pipe.calibration_temperature))
    return {"ents_f": outcome.f1, "ents_p": outcome.precision, "ents_r": outcome.recall}


# -- the loop -------------------------------------------------------------------------------
def pretrain(config_path: Path, output: Path, overrides: Dict, settings: PretrainSettings,
             log: Callable[[str], None] = print) -> PretrainState:
    """Train (or go on training) the pipeline of `config_path` into `output`; model-last (and
    model-best, when evaluated) are written at the end."""
    from spacy.util import load_config, load_model_from_config

    output.mkdir(parents=True, exist_ok=True)
    checkpoint = find_checkpoint(output)
    if checkpoint is not None:
        checkpoint = promote(checkpoint, output)
        state = PretrainState(**srsly.read_json(checkpoint / STATE))
        nlp = load_model(checkpoint / "pipeline")
        config = nlp.config
        log(f"Going on from {checkpoint} at step {state.step} ({state.train_seconds / 60:.1f} min trained); "
            f"the settings are the first run's")
    else:
        state = PretrainState()
        overrides = dict(overrides)
        if settings.max_steps and "training.max_steps" not in overrides:
            # The learning-rate schedule runs over [training] max_steps: the step budget it is.
            overrides["training.max_steps"] = settings.max_steps
        config = load_config(config_path, overrides=overrides, interpolate=False)
        fix_random_seed(config.interpolate()["training"]["seed"])
        nlp = load_model_from_config(config, auto_fill=True)
    T = registry.resolve(config.interpolate()["training"])
    check_supported(config.interpolate()["training"], config_path)
    fingerprint = corpus_fingerprint(config)
    if checkpoint is not None and state.data and fingerprint != state.data:
        raise UserInputError(f"{output}: its checkpoint was trained on other corpus files than the config now reads "
                             f"({state.data} then, {fingerprint} now): give another output folder, or put the "
                             f"data back")
    state.data = fingerprint
    if checkpoint is not None and settings.max_steps > T["max_steps"]:
        raise UserInputError(f"--max-steps {settings.max_steps}: the run in {output} has a learning-rate schedule of "
                             f"{T['max_steps']} steps ([training] max_steps of its first run); after it the rate is 0")
    seed = int(T["seed"])
    # Dropout and sampling draws differ after a resume, as they would at any later step.
    fix_random_seed(seed + state.step)
    for _, pipe in nlp.pipeline:
        if hasattr(pipe, "_rng"):
            pipe._rng = random.Random(seed * 7919 + state.step)
    optimizer = T["optimizer"]
    if checkpoint is not None:
        restored = load_optimizer(optimizer, nlp, checkpoint / OPTIMIZER)
        log(f"Restored the optimizer state of {restored} of {saved_optimizer_parameters(checkpoint / OPTIMIZER)} "
            f"parameters")
        for _ in range(state.step):  # the learning-rate schedule, where the last run left it
            optimizer.step_schedules()
    train_corpus, dev_corpus = resolve_dot_names(config.interpolate(), [T["train_corpus"], T["dev_corpus"]])
    began = time.perf_counter()
    # Read once, kept in memory: a mixture's DocBin takes minutes to decode, and initialize
    # reads the examples more than once.
    examples = list(train_corpus(nlp))
    dev = list(dev_corpus(nlp))
    if not examples:
        raise UserInputError(f"{config_path}: the training corpus is empty")
    if checkpoint is None:
        # What `spacy train` does to start (init_nlp), on the examples already read; this
        # config has no static vectors or pretrained tok2vec to load.
        nlp.initialize(lambda: iter(examples), sgd=optimizer)
        fix_random_seed(seed)
        log(f"Read {len(examples)} examples and initialized the pipeline in {time.perf_counter() - began:.0f} s")
    max_steps = settings.max_steps or T["max_steps"]
    if not max_steps and not settings.max_minutes:
        raise UserInputError("pretraining needs a step budget (max_steps) or a time budget (--max-minutes)")
    before_update = T["before_update"]
    dropout = T["dropout"]
    state.runs += 1
    run_start, run_start_step = time.perf_counter(), state.step
    trained_before = state.train_seconds
    last_checkpoint = time.perf_counter()
    log_words, log_steps, log_time = 0, 0, time.perf_counter()
    losses: Dict[str, float] = {}

    def elapsed() -> float:
        return trained_before + time.perf_counter() - run_start

    def out_of_budget() -> bool:
        return (max_steps and state.step >= max_steps) or (settings.max_minutes and elapsed() >= settings.max_minutes * 60)

    def evaluate() -> None:
        began = time.perf_counter()
        scores = _scores(nlp, dev)
        record = {"step": state.step, "ents_f": scores["ents_f"], "ents_p": scores["ents_p"],
                  "ents_r": scores["ents_r"], "seconds": round(time.perf_counter() - began, 1),
                  "train_minutes": round(elapsed() / 60, 2)}
        state.history.append(record)
        log(f"dev (annotated types only) at step {state.step}: F1 {100 * scores['ents_f']:.2f} "
            f"(P {100 * scores['ents_p']:.2f}, R {100 * scores['ents_r']:.2f}) in {record['seconds']} s")
        if state.best_score is None or scores["ents_f"] > state.best_score:
            state.best_score = scores["ents_f"]
            write_pipeline(nlp, output / "model-best")

    while not out_of_budget():
        batches = epoch_batches(examples, T["batcher"], seed, state.epoch)
        for _ in range(state.batch_in_epoch):  # already trained on, before the last stop
            next(batches, None)
        for batch in batches:
            if out_of_budget():
                break
            if before_update is not None:
                before_update(nlp, {"step": state.step, "epoch": state.epoch})
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
            optimizer.step_schedules()
            n_words = sum(len(eg.predicted) for eg in batch)
            state.step += 1
            state.batch_in_epoch += 1
            state.words += n_words
            log_words += n_words
            log_steps += 1
            state.learn_rate = float(optimizer.learn_rate)
            if state.step % settings.log_every == 0:
                now = time.perf_counter()
                speed = log_words / max(now - log_time, 1e-9)
                left = _time_left(state, max_steps, settings.max_minutes, elapsed(), state.step - run_start_step,
                                  time.perf_counter() - run_start)
                loss_text = " ".join(f"{k} {v / log_steps:.3f}" for k, v in losses.items())
                log(f"step {state.step}{f'/{max_steps}' if max_steps else ''} · epoch {state.epoch} · "
                    f"loss {loss_text} · {speed:.0f} words/s · {elapsed() / 60:.1f} min trained · "
                    f"{left / 60:.1f} min left")
                losses = {}
                log_words, log_steps, log_time = 0, 0, now
            if settings.eval_every and state.step % settings.eval_every == 0:
                evaluate()
            if settings.snapshot_minutes:
                mark = int(elapsed() // (settings.snapshot_minutes * 60)) * settings.snapshot_minutes
                folder = output / f"model-at-{mark:g}min"
                if mark > 0 and not folder.exists():
                    write_pipeline(nlp, folder)
                    srsly.write_json(folder / "pretrain_state.json", dict(asdict(state), train_seconds=elapsed()))
                    log(f"snapshot after {mark:g} min at step {state.step}: {folder}")
            if time.perf_counter() - last_checkpoint >= settings.checkpoint_minutes * 60:
                _checkpoint(nlp, optimizer, state, output, elapsed(), log)
                last_checkpoint = time.perf_counter()
        else:
            state.epoch += 1
            state.batch_in_epoch = 0
    state.train_seconds = elapsed()
    if dev and (not state.history or state.history[-1]["step"] != state.step):
        evaluate()
    state.train_seconds = elapsed()
    state.peak_rss_mb = max(state.peak_rss_mb, peak_rss_mb())
    write_pipeline(nlp, output / "model-last")
    _checkpoint(nlp, optimizer, state, output, elapsed(), log)
    srsly.write_json(output / "pretrain_summary.json", dict(asdict(state), words_per_second=round(
        state.words / max(state.train_seconds, 1e-9), 1)))
    log(f"Done at step {state.step}: {state.words} words in {state.train_seconds / 60:.1f} min "
        f"({state.words / max(state.train_seconds, 1e-9):.0f} words/s), peak RSS {state.peak_rss_mb:.0f} MB; "
        f"{output / 'model-last'}")
    return state


def _time_left(state: PretrainState, max_steps: int, max_minutes: float, elapsed: float, steps_this_run: int,
               run_seconds: float) -> float:
    """Seconds to the first budget that ends the run, at this run's pace."""
    candidates = []
    if max_minutes:
        candidates.append(max(0.0, max_minutes * 60 - elapsed))
    if max_steps:
        candidates.append(max(0, max_steps - state.step) * run_seconds / max(1, steps_this_run))
    return min(candidates) if candidates else 0.0


def _checkpoint(nlp, optimizer, state: PretrainState, output: Path, elapsed: float, log) -> None:
    state.train_seconds = elapsed
    state.peak_rss_mb = max(state.peak_rss_mb, peak_rss_mb())
    began = time.perf_counter()
    path = write_checkpoint(nlp, optimizer, state, output)
    log(f"checkpoint at step {state.step}: {path} ({time.perf_counter() - began:.1f} s)")
