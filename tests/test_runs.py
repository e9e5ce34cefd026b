from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_ner_ext.experiments.runs import Run, RunFailed, run_all
from spacy_ner_ext.tests.util import TRAIN_DATA, make_doc

CONFIGS = Path(__file__).parent.parent / "configs"


@pytest.mark.slow
def test_a_failed_run_names_itself_and_shows_the_end_of_its_log(tmp_path):
    nlp = spacy.blank("en")
    DocBin(docs=[make_doc(nlp, w, e) for w, e in TRAIN_DATA]).to_disk(tmp_path / "d.spacy")
    missing = tmp_path / "missing.spacy"
    run = Run("broken", CONFIGS / "token_softmax.cfg", {"paths.train": str(missing), "paths.dev": str(missing)})
    with pytest.raises(RunFailed, match=r"(?s)run 'broken' \(.*token_softmax.cfg\): spacy train exited with 1.*missing"):
        run_all([run], tmp_path / "d.spacy", tmp_path / "runs")
    assert (tmp_path / "runs" / "broken" / "train.log").exists()


def test_run_names_must_be_unique(tmp_path):
    runs = [Run("a", CONFIGS / "span.cfg"), Run("a", CONFIGS / "crf.cfg")]
    with pytest.raises(ValueError, match="unique"):
        run_all(runs, tmp_path / "d.spacy", tmp_path)
