"""pytest fixtures shared by the package's tests and the project's: imported into both
conftest.py files, so an installed package's tests run with `pytest --pyargs spacy_ner_ext`."""
import pytest

from .util import make_tiny_transformer


@pytest.fixture(scope="session")
def tiny_transformer(tmp_path_factory):
    """A 2-layer BERT with random weights and a small word-piece vocabulary, on disk."""
    return str(make_tiny_transformer(tmp_path_factory.mktemp("tiny-bert")))
