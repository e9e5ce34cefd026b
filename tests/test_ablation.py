from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_ner_ext.cli import app
from spacy_ner_ext.tests.util import TRAIN_DATA, make_doc

CONFIGS = Path(__file__).parent.parent / "configs"


@pytest.mark.slow
def test_loss_ablation_writes_table_and_chart(tiny_transformer, tmp_path):
    nlp = spacy.blank("en")
    DocBin(docs=[make_doc(nlp, w, e) for w, e in TRAIN_DATA]).to_disk(tmp_path / "d.spacy")
    out, chart = tmp_path / "ablation.json", tmp_path / "ablation.png"
    result = CliRunner().invoke(app, [
        "ablation", str(CONFIGS / "token_softmax.cfg"), "--test-data", str(tmp_path / "d.spacy"),
        "--train-data", str(tmp_path / "d.spacy"), "--dev-data", str(tmp_path / "d.spacy"),
        "--loss", "cross_entropy", "--loss", "embedding_label_smoothing", "--steps", "3", "--backbone", tiny_transformer,
        "--output", str(out), "--chart", str(chart), "--jobs", "2"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    import json

    rows = json.loads(out.read_text())["rows"]
    assert [r["loss"] for r in rows] == ["cross_entropy", "embedding_label_smoothing"]
    # Each run trained with its own loss, as the saved pipeline's config shows.
    assert [r["trained_loss"]["@losses"] for r in rows] == ["spacy_ner_ext.cross_entropy.v1",
                                                            "spacy_ner_ext.embedding_label_smoothing.v1"]
    assert rows[1]["trained_loss"]["smoothing"] == 0.1
    # Scored on the test file given: its 10 entities.
    assert all(sum(t["gold"] for t in r["per_type"].values()) == 10 for r in rows)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
