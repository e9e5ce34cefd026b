import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from spacy_ner_ext.tests.fixtures import tiny_transformer  # noqa: E402,F401

# One thread: the suite's timings stay steady on a small machine. Tests that stand for a user's
# run (several processes, a command) start their own process with torch's default threads.
torch.set_num_threads(1)
