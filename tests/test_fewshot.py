import json
from pathlib import Path

import pytest
import spacy

from spacy_ner_ext.experiments.fewshot import run_fewshot, run_zeroshot, sample_k_shot
from spacy_ner_ext.tests.util import TRAIN_DATA, build_pipeline, make_doc, train_pipeline

CONFIGS = Path(__file__).parent.parent / "configs"


def gold_docs(nlp):
    return [make_doc(nlp, words, ents) for words, ents in TRAIN_DATA]


def test_k_shot_sampling_covers_every_type_and_is_seeded():
    nlp = spacy.blank("en")
    docs = gold_docs(nlp) * 5
    sample = sample_k_shot(docs, 2, seed=1)
    counts = {}
    for doc in sample:
        for e in doc.ents:
            counts[e.label_] = counts.get(e.label_, 0) + 1
    assert set(counts) == {"PER", "LOC", "ORG"} and min(counts.values()) >= 2
    assert len(sample) < len(docs)
    assert [d.text for d in sample_k_shot(docs, 2, seed=1)] == [d.text for d in sample]


@pytest.mark.slow
def test_fewshot_trains_and_scores_each_config(tiny_transformer):
    nlp = spacy.blank("en")
    docs = gold_docs(nlp)
    overrides = {"components.transformer.model.name": tiny_transformer,
                 "components.transformer.model.get_spans.window": 32,
                 "components.transformer.model.get_spans.stride": 24}
    results = run_fewshot([CONFIGS / "span.cfg", CONFIGS / "baseline_ner.cfg"], docs, docs, ks=[1], seeds=[0, 1],
                          steps=3, overrides=overrides, jobs=2)
    assert len(results["runs"]) == 4
    assert {(s["config"].split("/")[-1], s["k"], s["seeds"]) for s in results["summary"]} == \
        {("span.cfg", 1, 2), ("baseline_ner.cfg", 1, 2)}
    assert all(0.0 <= s["f1_mean"] <= 1.0 and s["f1_std"] >= 0.0 for s in results["summary"])


def test_zeroshot_swaps_the_types_for_the_new_dataset(tiny_transformer, tmp_path):
    nlp = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4}})
    train_pipeline(nlp, 20)
    nlp.to_disk(tmp_path / "model")
    (tmp_path / "d.json").write_text(json.dumps({"CITY": "Names of cities.", "PERSON": "Names of people."}))
    test = [make_doc(spacy.blank("en"), "john smith visited paris today".split(), [(0, 2, "PERSON"), (3, 4, "CITY")])]
    result = run_zeroshot(str(tmp_path / "model"), test, tmp_path / "d.json")
    assert result["config"]["labels"] == ["CITY", "PERSON"]
    assert set(result["per_type"]) <= {"CITY", "PERSON"} and result["test_metrics"]["gold"] == 2
    with pytest.raises(ValueError, match="no component that reads type descriptions"):
        bare = spacy.blank("en")
        bare.to_disk(tmp_path / "bare")
        run_zeroshot(str(tmp_path / "bare"), test, tmp_path / "d.json")
