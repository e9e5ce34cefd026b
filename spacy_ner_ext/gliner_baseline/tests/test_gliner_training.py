"""A tiny GLiNER on the tiny random transformer: trained by GLiNER's own Trainer within a word
budget, saved as safetensors, read back, asked for entities and scored (slow; skipped without
the `gliner` extra)."""
import json

import pytest
import spacy
from spacy.tokens import Doc, Span

pytest.importorskip("gliner")
pytest.importorskip("accelerate")

from spacy_ner_ext.corpus.annotated_types import set_annotated_types  # noqa: E402
from spacy_ner_ext.experiments.gliner_comparison import score_char_spans  # noqa: E402
from spacy_ner_ext.gliner_baseline.model import load_gliner, predict_char_spans  # noqa: E402
from spacy_ner_ext.gliner_baseline.records import docs_to_records  # noqa: E402
from spacy_ner_ext.gliner_baseline.training import train_gliner  # noqa: E402


def training_docs():
    vocab = spacy.blank("en").vocab
    docs = []
    for person, city in [("john smith", "paris"), ("mary jones", "london"), ("john jones", "berlin")] * 4:
        words = person.split() + ["visited", city, "today"]
        doc = Doc(vocab, words=words)
        doc.ents = [Span(doc, 0, 2, label="person"), Span(doc, 3, 4, label="city")]
        set_annotated_types(doc, ["person", "city", "company"])
        docs.append(doc)
    return docs


@pytest.mark.slow
def test_tiny_gliner_trains_within_its_word_budget_resumes_and_is_scored(tiny_transformer, tmp_path):
    docs = training_docs()
    records = docs_to_records(docs)
    budget = 6 * 4 * 5  # six batches of four five-word records
    summary = train_gliner(records, tmp_path / "run", max_words=budget, max_minutes=10, backbone=tiny_transformer,
                           checkpoint_steps=2, settings={"batch_size": 4})
    assert summary["words"] >= budget and summary["words"] < budget + 4 * 5
    assert summary["steps"] == 6 and summary["planned_steps"] == 6
    saved = tmp_path / "run" / "model"
    assert (saved / "model.safetensors").is_file() and not list(saved.glob("*.bin"))
    assert json.loads((tmp_path / "run" / "train_summary.json").read_text())["words"] == summary["words"]

    # A rerun goes on from the last checkpoint: the budget is spent, so no step more.
    again = train_gliner(records, tmp_path / "run", max_words=budget, max_minutes=10, backbone=tiny_transformer,
                         checkpoint_steps=2, settings={"batch_size": 4})
    assert again["resumed"] and again["steps"] == 6

    # The schedule planned for fewer words than the budget (the minutes would bind first):
    # the steps follow it, and training ends with it.
    short = train_gliner(records, tmp_path / "short", max_words=budget, max_minutes=10, backbone=tiny_transformer,
                         checkpoint_steps=100, settings={"batch_size": 4}, schedule_words=budget // 2)
    assert short["planned_steps"] == 3 and short["steps"] == 3 and short["words"] == budget // 2

    model = load_gliner(saved)
    texts = [doc.text for doc in docs[:3]] + [""]
    found = predict_char_spans(model, texts, {"person": "person", "city": "city"}, threshold=0.0)
    assert len(found) == 4 and found[-1] == []
    for text, spans in zip(texts, found):
        for start, end, label in spans:
            assert 0 <= start < end <= len(text) and label in {"person", "city"}
    scores = score_char_spans(docs[:3], found[:3])["test_metrics"]
    assert scores["gold"] == 6 and scores["predicted"] == sum(len(f) for f in found)
