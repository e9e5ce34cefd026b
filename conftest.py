import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

from tests.util import make_tiny_transformer  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_transformer(tmp_path_factory):
    """A 2-layer BERT with random weights and a small word-piece vocabulary, on disk."""
    return str(make_tiny_transformer(tmp_path_factory.mktemp("tiny-bert")))
