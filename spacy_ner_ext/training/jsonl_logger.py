"""A training logger that keeps a JSONL record of every evaluation, beside spaCy's console log.

Each line: step, epoch, words seen, seconds, training words per second (wall clock, evaluation
included), losses and every numeric score. Benchmarks and plots read it back.

Why not `spacy.ConsoleLogger.v3`'s `output_file`, which also writes JSONL: it keeps only the
columns of `score_weights` (so no per-type scores for the per-type curves and report), no
words seen and no time (so no training words/s), and it refuses to write when the file
exists (a resumed or repeated run into the same folder logs nothing). This logger chains
spaCy's console logger, so the console table and progress bar are spaCy's own.
"""
import json
import time
from pathlib import Path
from typing import IO, Callable, Dict, Optional

from spacy.language import Language
from spacy.util import registry


def flatten_scores(scores: Dict, prefix: str = "") -> Dict[str, float]:
    flat = {}
    for key, value in (scores or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_scores(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


@registry.loggers("spacy_ner_ext.JsonlLogger.v1")
def jsonl_logger_v1(path: Optional[str] = None, console: Optional[Callable] = None):
    """path: the JSONL file (its folder is made); console: another logger to chain, usually
    spaCy's `spacy.ConsoleLogger.v1`."""

    def setup(nlp: Language, stdout: IO, stderr: IO):
        inner_step, inner_finalize = console(nlp, stdout, stderr) if console else (None, None)
        out = None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            out = Path(path).open("w", encoding="utf8")
        started = time.time()

        def log_step(info: Optional[Dict]) -> None:
            if inner_step:
                inner_step(info)
            if info is None or out is None:
                return
            seconds = time.time() - started
            record = {
                "step": info["step"],
                "epoch": info["epoch"],
                "words": info["words"],
                "seconds": round(seconds, 3),
                "train_words_per_second": round(info["words"] / seconds, 1) if seconds else None,
                "score": info["score"],
                "losses": {k: float(v) for k, v in info["losses"].items()},
                "scores": flatten_scores(info["other_scores"]),
            }
            out.write(json.dumps(record) + "\n")
            out.flush()

        def finalize() -> None:
            if inner_finalize:
                inner_finalize()
            if out is not None:
                out.close()

        return log_step, finalize

    return setup
