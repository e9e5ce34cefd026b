import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from spacy_ner_ext.tests.fixtures import tiny_transformer  # noqa: E402,F401

torch.set_num_threads(1)
