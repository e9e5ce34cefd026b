import json
from pathlib import Path

import pytest
import spacy
from spacy.util import registry
from typer.testing import CliRunner

from spacy_ner_ext import DEFAULT_MODEL_NAME, resolve_model_name
from spacy_ner_ext.experiments.benchmark import inference_worker
from spacy_ner_ext.cli import app
from spacy_ner_ext.tests.util import LISTENER, blank_with_transformer, train_examples

CONLL = "Ada B-PER\nLovelace I-PER\nlived O\nin O\nLondon B-LOC\n\nBabbage B-PER\nmet O\nAda B-PER\n"


def test_default_names_resolve_to_the_packaged_minilm():
    path = Path(resolve_model_name("default"))
    assert resolve_model_name(DEFAULT_MODEL_NAME) == str(path)
    assert (path / "config.json").exists() and (path / "model.safetensors").exists()
    assert resolve_model_name("bert-base-cased") == "bert-base-cased"
    assert resolve_model_name("/some/local/folder") == "/some/local/folder"


def test_unloadable_model_names_itself_and_the_default(tmp_path):
    nlp = blank_with_transformer(str(tmp_path / "no-such-model"))
    with pytest.raises(OSError, match=r"(?s)Could not load the transformer '.*no-such-model'.*name = \"default\""):
        nlp.initialize()


def test_readers_are_registered_through_entry_points(tmp_path):
    (tmp_path / "train.txt").write_text(CONLL)
    reader = registry.readers.get("spacy_ner_ext.ConllCorpus.v1")(path=tmp_path / "train.txt", n_sents=2)
    (eg,) = list(reader(spacy.blank("en")))
    assert [(e.text, e.label_) for e in eg.reference.ents] == [("Ada Lovelace", "PER"), ("London", "LOC"),
                                                              ("Babbage", "PER"), ("Ada", "PER")]
    assert [t.text for t in eg.predicted] == [t.text for t in eg.reference]
    for name in ("JsonlCorpus", "GlinerJsonCorpus", "RawAnnotationCorpus"):
        assert registry.readers.get(f"spacy_ner_ext.{name}.v1")


@pytest.fixture(scope="module")
def tiny_pipeline(tiny_transformer, tmp_path_factory):
    spacy.util.fix_random_seed(0)  # the same pipeline whatever ran before
    nlp = blank_with_transformer(tiny_transformer)
    nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 16, "maxout_pieces": 2, "use_upper": False, "tok2vec": LISTENER}})
    examples = train_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(60):
        nlp.update(examples, sgd=optimizer)
    path = tmp_path_factory.mktemp("pipeline") / "tiny"
    nlp.to_disk(path)
    return path


def test_convert_then_evaluate(tiny_pipeline, tmp_path):
    runner = CliRunner()
    src = tmp_path / "test.txt"
    src.write_text("john B-PER\nsmith I-PER\nvisited O\nparis B-LOC\ntoday O\n\nmary B-PER\njones I-PER\nworks O\n")
    result = runner.invoke(app, ["convert", str(src), str(tmp_path / "test.spacy")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "results.json"
    result = runner.invoke(app, ["evaluate", str(tiny_pipeline), str(tmp_path / "test.spacy"), "--output", str(out),
                                 "--displacy-page", str(tmp_path / "page.html")])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert scores["test_metrics"]["gold"] == 3
    assert set(scores["per_type"]) <= {"PER", "LOC", "ORG"} and "PER" in scores["per_type"]
    assert scores["config"]["pipeline"] == ["transformer", "ner"]
    m = scores["test_metrics"]
    # The trained sentence ("john smith ... paris") is found again, and F1 follows from the counts.
    assert m["correct"] >= 2
    assert m["f1"] == pytest.approx(2 * m["correct"] / (m["gold"] + m["predicted"]))
    assert "Predictions beside gold entities" in (tmp_path / "page.html").read_text()


def test_convert_reports_bad_input(tmp_path):
    src = tmp_path / "bad.txt"
    src.write_text("john B-PER\nsmith\n")
    result = CliRunner().invoke(app, ["convert", str(src), str(tmp_path / "x.spacy")])
    # One line, as spaCy's own commands say it, and a non-zero exit: no traceback.
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "bad.txt, line 2: expected at least 2 columns" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_inference_benchmark(tiny_pipeline, tmp_path):
    from spacy.tokens import DocBin

    nlp = spacy.load(tiny_pipeline)
    DocBin(docs=[nlp.make_doc("john smith visited paris today")] * 200).to_disk(tmp_path / "d.spacy")
    result = inference_worker(str(tiny_pipeline), str(tmp_path / "d.spacy"), 4, 0, -1, 1)
    assert result["words"] == 1000 and result["docs"] == 200
    assert result["words_per_second"] == pytest.approx(1000 / result["seconds"], rel=0.02)
    # The peak is this process's high-water mark, in MB (the kernel's own figure, read back).
    status = Path("/proc/self/status")
    if status.exists():
        hwm_kb = int(next(line for line in status.read_text().splitlines() if line.startswith("VmHWM")).split()[1])
        assert result["peak_rss_mb"] == pytest.approx(hwm_kb / 1024, rel=0.05)
