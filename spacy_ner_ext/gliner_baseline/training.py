"""GLiNER trained by GLiNER's own code (`GLiNER.train_model`, its Trainer and collator) within
a budget of words and of minutes, resumable.

The budget is the one to compare with: the words `span_ner`'s pretraining saw and its training
minutes. Steps are set from the records' mean length so that the learning-rate schedule ends
where the words do; a callback counts the words of every batch the collator builds and stops
at whichever budget is spent first. Checkpoints (every `checkpoint_steps`) hold the words and
seconds so far (`budget.json`), and a rerun of the same command goes on from the last one.
"""
import collections
import json
import math
import time
from pathlib import Path
from typing import Dict, List, Optional

from .model import build_gliner, load_gliner, require_gliner, save_gliner

BUDGET_FILE = "budget.json"
# GLiNER's published training recipe (train.py, configs/config.yaml): focal loss, a higher rate
# for the layers it adds than for the encoder, warm-up over a tenth of the steps.
DEFAULT_SETTINGS = {
    "batch_size": 32, "learning_rate": 5e-5, "others_lr": 1e-4, "weight_decay": 0.01, "warmup_ratio": 0.1,
    "focal_loss_alpha": 0.75, "focal_loss_gamma": 2.0, "loss_reduction": "sum", "max_grad_norm": 1.0,
}


class _WordCounter:
    """Wraps GLiNER's collator: notes the words of each batch it builds, and counts them as
    trained when a step ends (the data loader builds a batch ahead of the one training)."""

    def __init__(self, collator):
        self.collator = collator
        self.pending = collections.deque()
        self.words = 0

    def __call__(self, batch, *args, **kwargs):
        self.pending.append(sum(len(record["tokenized_text"]) for record in batch))
        return self.collator(batch, *args, **kwargs)

    def step_done(self) -> None:
        if self.pending:
            self.words += self.pending.popleft()


def planned_steps(records: List[Dict], max_words: int, batch_size: int) -> int:
    mean_words = sum(len(r["tokenized_text"]) for r in records) / max(1, len(records))
    return max(1, math.ceil(max_words / max(1e-9, mean_words * batch_size)))


def train_gliner(records: List[Dict], output: Path, *, max_words: int, max_minutes: float,
                 backbone: str = "sentence-transformers/all-MiniLM-L6-v2", checkpoint_steps: int = 200,
                 seed: int = 0, settings: Optional[Dict] = None, schedule_words: int = 0, log=print) -> Dict:
    """Train a new GLiNER on `records` (GLiNER's format) into `output/model` (safetensors);
    returns the run's figures (steps, words, training seconds, words/s). Resumes from the
    last checkpoint in `output` when there is one. schedule_words: the words the learning-rate
    schedule (warm-up, then linear decay to 0) is planned for, when the minutes will bind
    before the words do (0: max_words)."""
    require_gliner()
    import torch
    from transformers import TrainerCallback

    settings = {**DEFAULT_SETTINGS, **(settings or {})}
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    model = build_gliner(backbone)
    steps = planned_steps(records, min(schedule_words or max_words, max_words), settings["batch_size"])
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(output))
    resume = Path(last) if last else None
    spent = json.loads((resume / BUDGET_FILE).read_text()) if resume else {"words": 0, "seconds": 0.0}
    counter = _WordCounter(model._create_data_collator())
    started = time.perf_counter()

    def words_so_far():
        return spent["words"] + counter.words

    def seconds_so_far():
        return spent["seconds"] + time.perf_counter() - started

    class Budget(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            counter.step_done()
            if words_so_far() >= max_words or seconds_so_far() >= 60 * max_minutes:
                control.should_training_stop = True
                control.should_save = True

        def on_save(self, args, state, control, **kwargs):
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                (folder / BUDGET_FILE).write_text(json.dumps({"words": words_so_far(), "seconds": seconds_so_far(),
                                                              "step": state.global_step}))

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                log(f"step {state.global_step}/{steps}  loss {logs['loss']:.2f}  words {words_so_far():,}  "
                    f"{seconds_so_far() / 60:.1f} min")

    args = model.create_training_args(
        output_dir=str(output), max_steps=steps, per_device_train_batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], others_lr=settings["others_lr"],
        weight_decay=settings["weight_decay"], warmup_ratio=settings["warmup_ratio"],
        focal_loss_alpha=settings["focal_loss_alpha"], focal_loss_gamma=settings["focal_loss_gamma"],
        loss_reduction=settings["loss_reduction"], max_grad_norm=settings["max_grad_norm"],
        save_steps=checkpoint_steps, save_total_limit=2, logging_steps=50, use_cpu=not torch.cuda.is_available(),
        # The word count is taken in the collator: it must run in this process.
        dataloader_num_workers=0, seed=seed, save_safetensors=True, disable_tqdm=True,
    )
    # As GLiNER.train_model, with the counting collator, the budget callback and batches of
    # records of about one length.
    from gliner.model import _get_trainer_classes
    from transformers.trainer_pt_utils import LengthGroupedSampler

    GlinerTrainer, _ = _get_trainer_classes()
    lengths = [len(record["tokenized_text"]) for record in records]

    class Trainer(GlinerTrainer):
        # GLiNER scores every span of up to max_width words through a 2048-wide MLP, for the
        # longest record of the batch: a random batch of short sentences padded to its one long
        # passage costs several times the work. transformers' own length-grouped sampler (what
        # `group_by_length` uses; GLiNER's records are not a `datasets` table, so the lengths
        # are given here) keeps the batches random but of similar lengths.
        def _get_train_sampler(self, *args, **kwargs):
            return LengthGroupedSampler(self.args.train_batch_size, lengths=lengths)

    trainer = Trainer(model=model, args=args, train_dataset=records, eval_dataset=None, data_collator=counter,
                      processing_class=model.data_processor.transformer_tokenizer, callbacks=[Budget()])
    if resume:
        log(f"resuming from {resume} ({spent['words']:,} words, {spent['seconds'] / 60:.1f} min)")
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    save_gliner(model, output / "model")
    summary = {"steps": trainer.state.global_step, "planned_steps": steps, "words": words_so_far(),
               "train_seconds": round(seconds_so_far(), 1), "max_words": max_words, "max_minutes": max_minutes,
               "records": len(records), "settings": settings, "backbone": backbone, "resumed": bool(resume),
               "schedule_words": schedule_words or max_words}
    summary["words_per_second"] = round(summary["words"] / max(1e-9, summary["train_seconds"]), 1)
    (output / "train_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def trained_model(output: Path):
    return load_gliner(Path(output) / "model")
