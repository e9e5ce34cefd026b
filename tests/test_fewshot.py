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


def _fewshot_table():
    import importlib.util

    spec = importlib.util.spec_from_file_location("fewshot_table", Path(__file__).parent.parent / "scripts" / "fewshot_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_rerun_of_one_config_replaces_its_earlier_runs_only_when_asked(tmp_path):
    import typer
    from typer.testing import CliRunner

    def run(config, seed, f1):
        return {"config": config, "k": 10, "seed": seed, "f1": f1}

    first = tmp_path / "first.json"
    first.write_text(json.dumps({"steps": 200, "runs": [run("u.cfg", 0, 0.5), run("ner.cfg", 0, 0.4),
                                                        run("u.cfg", 1, 0.7), run("ner.cfg", 1, 0.4)]}))
    rerun = tmp_path / "rerun.json"
    rerun.write_text(json.dumps({"steps": 200, "runs": [run("u.cfg", 0, 0.8), run("u.cfg", 1, 0.6)]}))
    app = typer.Typer()
    app.command()(_fewshot_table().main)
    refused = CliRunner().invoke(app, [str(first), str(rerun), "--output", str(tmp_path / "t.json"),
                                       "--baseline", "ner.cfg"])
    assert refused.exit_code == 1 and "seed" in refused.output
    merged = CliRunner().invoke(app, [str(first), str(rerun), "--output", str(tmp_path / "t.json"),
                                      "--baseline", "ner.cfg", "--rerun-replaces"])
    assert merged.exit_code == 0, merged.output
    table = json.loads((tmp_path / "t.json").read_text())
    universal = [row for row in table["summary"] if row["config"] == "u.cfg"][0]
    # The rerun's 0.8 and 0.6, not the first file's 0.5 and 0.7; ner's runs kept.
    assert universal["f1_mean"] == pytest.approx(0.7) and universal["f1_std"] == pytest.approx(0.1414, abs=1e-3)
    assert universal["vs_baseline"] == pytest.approx(0.3)
    assert {r["source"] for r in table["runs"] if r["config"] == "u.cfg"} == {str(rerun)}
