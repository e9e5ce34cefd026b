import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from spacy_ner_ext.errors import UserInputError
from spacy_ner_ext.experiments.fewshot import run_fewshot, run_zeroshot, sample_k_shot, summarize_runs
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


def test_runs_merged_from_several_files_are_summarized_per_config_and_k():
    runs = [{"config": "a.cfg", "k": 10, "seed": 0, "f1": 0.50}, {"config": "b.cfg", "k": 10, "seed": 0, "f1": 0.40},
            {"config": "a.cfg", "k": 10, "seed": 1, "f1": 0.60}, {"config": "a.cfg", "k": 50, "seed": 0, "f1": 0.70},
            {"config": "a.cfg", "k": 10, "seed": 2, "f1": 0.55}]
    summary = {(s["config"], s["k"]): s for s in summarize_runs(runs)}
    assert set(summary) == {("a.cfg", 10), ("b.cfg", 10), ("a.cfg", 50)}
    # Mean 0.55 and sample standard deviation 0.05 of 0.50, 0.60, 0.55 (worked by hand).
    assert summary["a.cfg", 10]["seeds"] == 3
    assert summary["a.cfg", 10]["f1_mean"] == pytest.approx(0.55)
    assert summary["a.cfg", 10]["f1_std"] == pytest.approx(0.05)
    assert summary["b.cfg", 10]["f1_std"] == 0.0 and summary["a.cfg", 50]["f1_mean"] == 0.70
    # The same seed twice (one file merged twice) is refused, not averaged in.
    with pytest.raises(UserInputError, match=r"a.cfg at K = 10: seed repeated"):
        summarize_runs(runs + [{"config": "a.cfg", "k": 10, "seed": 1, "f1": 0.60}])


@pytest.mark.slow
def test_fewshot_trains_and_scores_each_config(tiny_transformer):
    nlp = spacy.blank("en")
    docs = gold_docs(nlp)
    overrides = {"components.transformer.model.name": tiny_transformer,
                 "components.transformer.model.get_spans.window": 32,
                 "components.transformer.model.get_spans.stride": 24}
    project_training = CONFIGS.parent / "training"
    before = sorted(project_training.rglob("*")) if project_training.exists() else []
    results = run_fewshot([CONFIGS / "span.cfg", CONFIGS / "baseline_ner.cfg"], docs, docs, ks=[1], seeds=[0, 1],
                          steps=3, overrides=overrides, jobs=2)
    # Nothing written into the project (TensorBoard events went to each run's folder).
    assert (sorted(project_training.rglob("*")) if project_training.exists() else []) == before
    assert len(results["runs"]) == 4
    assert {(s["config"].split("/")[-1], s["k"], s["seeds"]) for s in results["summary"]} == \
        {("span.cfg", 1, 2), ("baseline_ner.cfg", 1, 2)}
    for s in results["summary"]:
        f1s = [r["f1"] for r in results["runs"] if r["config"] == s["config"] and r["k"] == s["k"]]
        assert s["f1_mean"] == pytest.approx(sum(f1s) / 2)
        assert s["f1_std"] == pytest.approx(abs(f1s[0] - f1s[1]) / 2 ** 0.5)
    # Both configs trained on the same sample of each seed, and were scored on the 10 test entities.
    by_seed = {}
    for r in results["runs"]:
        by_seed.setdefault(r["seed"], set()).add(r["train_docs"])
        assert sum(t["gold"] for t in r["per_type"].values()) == 10
    assert all(len(sizes) == 1 for sizes in by_seed.values())


def test_zeroshot_swaps_the_types_for_the_new_dataset(tiny_transformer, tmp_path):
    nlp = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4}})
    train_pipeline(nlp, 40)
    words = "john smith visited paris today".split()
    assert {e.label_ for e in nlp(Doc(nlp.vocab, words=words)).ents} == {"PER", "LOC"}  # what it was trained on
    nlp.to_disk(tmp_path / "model")
    (tmp_path / "d.json").write_text(json.dumps({"CITY": "Names of cities.", "PERSON": "Names of people."}))
    test = [make_doc(spacy.blank("en"), words, [(0, 2, "PERSON"), (3, 4, "CITY")])]
    result = run_zeroshot(str(tmp_path / "model"), test, tmp_path / "d.json")
    # Its own types are gone: no PER or LOC is predicted on the text it was trained on.
    assert set(result["per_type"]) == {"CITY", "PERSON"} and result["test_metrics"]["gold"] == 2
    with pytest.raises(ValueError, match="no component that reads type descriptions"):
        bare = spacy.blank("en")
        bare.to_disk(tmp_path / "bare")
        run_zeroshot(str(tmp_path / "bare"), test, tmp_path / "d.json")
