"""spaCy pipeline components for named entity recognition on transformers."""
import os
import sys

from .ml.backbone import DEFAULT_MODEL_NAME, resolve_model_name

__version__ = "0.1.0"
__all__ = ["resolve_model_name", "DEFAULT_MODEL_NAME", "load_universal", "__version__"]


def load_universal(*args, **kwargs):
    """The shipped universal pipeline for the types named; see `spacy_ner_ext.universal.load_universal`."""
    # Imported on call: `import spacy_ner_ext` stays light (no torch, no spaCy pipeline).
    from .universal import load_universal as load

    return load(*args, **kwargs)


def _one_torch_thread_after_fork() -> None:
    # A process forked after the parent ran torch on several threads (nlp.pipe(n_process=N)
    # forks its workers on Linux) inherits an OpenMP thread pool whose threads did not survive
    # the fork: its first parallel torch operation waits for them forever. With one thread torch
    # never enters the pool; N worker processes are the parallelism the user asked for.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_one_torch_thread_after_fork)
