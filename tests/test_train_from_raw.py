"""configs/contrastive.cfg trained by `spacy train` from raw text + entity strings."""
from pathlib import Path

import pytest
import spacy

from spacy_ner_ext.tests.util import TRAIN_DATA


@pytest.mark.slow
def test_spacy_train_from_raw_text_and_entity_strings(tiny_transformer, tmp_path):
    """configs/contrastive.cfg trained by `spacy train` straight from text + entity strings,
    matched exactly or (a misspelt mention) fuzzily by the corpus reader."""
    import json

    from spacy.cli.train import train

    from spacy_ner_ext.corpus import read_raw_annotations

    lines = []
    for i, (words, entities) in enumerate(TRAIN_DATA):
        mentions = [{"text": " ".join(words[s:e]), "label": label} for s, e, label in entities]
        lines.append({"id": f"ex{i}", "text": " ".join(words), "entities": mentions})
    lines[1]["entities"][1]["text"] = "acme corps"  # not in the text: found by fuzzy matching
    raw = tmp_path / "raw.jsonl"
    raw.write_text("".join(json.dumps(line) + "\n" for line in lines))
    doc = list(read_raw_annotations(raw, spacy.blank("en"), fuzzy_threshold=85))[1]
    assert [(e.text, e.label_) for e in doc.ents] == [("mary jones", "PER"), ("acme corp", "ORG")]

    reader = {"@readers": "spacy_ner_ext.RawAnnotationCorpus.v1", "path": str(raw), "fuzzy_threshold": 85}
    config = Path(__file__).parent.parent / "configs" / "contrastive.cfg"
    train(config, tmp_path / "out", overrides={
        "corpora.train": reader, "corpora.dev": reader, "training.max_steps": 60, "training.eval_frequency": 20,
        "training.optimizer.learn_rate": 0.002, "training.logger": {"@loggers": "spacy.ConsoleLogger.v3"},
        "components.transformer.model.name": tiny_transformer,
        "components.transformer.model.get_spans.window": 32, "components.transformer.model.get_spans.stride": 24})
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert sorted(nlp.get_pipe("contrastive_ner").labels) == ["LOC", "ORG", "PER"]
    # The dev set, read the same way, was scored during training: the model learnt it.
    assert nlp.meta["performance"]["ents_f"] >= 0.8
    assert nlp.config["corpora"]["train"]["@readers"] == "spacy_ner_ext.RawAnnotationCorpus.v1"
