import json

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from typer.testing import CliRunner

from spacy_ner_ext.cli import app
from spacy_ner_ext.evaluation.calibration import calibration_report, expected_calibration_error, reliability_bins
from spacy_ner_ext.tests.util import TRAIN_DATA, build_pipeline, make_doc, train_pipeline


def scored_example(nlp, words, gold, predicted):
    doc = make_doc(nlp, words, [p[:3] for p in predicted])
    for ent, (_, _, _, score) in zip(doc.ents, predicted):
        ent._.ner_score = score
    return Example(doc, make_doc(nlp, words, gold))


def test_calibration_error_by_hand():
    nlp = spacy.blank("en")
    words = "a b c d e f g h".split()
    gold = [(0, 1, "PER"), (2, 3, "PER"), (4, 5, "LOC"), (6, 7, "ORG")]
    # Four entities scored 0.95, three of them right; two scored 0.35, one right (a wrong type).
    examples = [
        scored_example(nlp, words, gold, [(0, 1, "PER", 0.95), (2, 3, "PER", 0.95), (4, 5, "LOC", 0.95),
                                           (5, 6, "LOC", 0.95)]),
        scored_example(nlp, words, gold, [(0, 1, "PER", 0.35), (2, 3, "LOC", 0.35)]),
    ]
    report = calibration_report(examples)
    assert report["entities"] == 6 and report["precision"] == pytest.approx(4 / 6)
    assert [(b["lower"], b["count"], b["precision"]) for b in report["bins"]] == [
        (pytest.approx(0.3), 2, 0.5), (pytest.approx(0.9), 4, 0.75)]
    assert report["ece"] == pytest.approx(4 / 6 * abs(0.75 - 0.95) + 2 / 6 * abs(0.5 - 0.35))
    # Scores of exactly 0 and 1 fall in the first and last bins.
    assert [b["count"] for b in reliability_bins(numpy.array([0.0, 1.0]), numpy.array([False, True]))] == [1, 1]
    assert expected_calibration_error(numpy.array([1.0, 1.0]), numpy.array([True, True])) == 0.0
    # spaCy's own ner writes no scores: nothing to report.
    assert calibration_report([Example(make_doc(nlp, words, gold), make_doc(nlp, words, gold))]) is None


@pytest.fixture(scope="module")
def half_trained(tiny_transformer, tmp_path_factory):
    """span_ner trained too briefly to be sure of itself: its thresholds have something to gain."""
    nlp = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4}})
    train_pipeline(nlp, 12)
    folder = tmp_path_factory.mktemp("half-trained")
    nlp.to_disk(folder / "pipeline")
    # Dev: the training sentences and shuffled copies of them.
    rng = numpy.random.default_rng(0)
    docs = []
    for words, gold in TRAIN_DATA * 3:
        docs.append(make_doc(nlp, words, gold))
        order = rng.permutation(len(words))
        moved = {int(old): new for new, old in enumerate(order)}
        shuffled = [(moved[s], moved[s] + 1, label) for s, e, label in gold if e - s == 1]
        docs.append(make_doc(nlp, [words[i] for i in order], sorted(shuffled)))
    DocBin(docs=docs).to_disk(folder / "dev.spacy")
    return folder


def test_tune_thresholds_then_evaluate_the_copy(half_trained, tmp_path):
    runner = CliRunner()
    summary = tmp_path / "summary.json"
    result = runner.invoke(app, ["tune-thresholds", str(half_trained / "pipeline"), str(half_trained / "dev.spacy"),
                                 str(tmp_path / "tuned"), "--calibrate", "--summary", str(summary)])
    assert result.exit_code == 0, result.output
    tuned = json.loads(summary.read_text())
    before, global_, after = tuned["before_dev"]["f1"], tuned["global_dev"]["f1"], tuned["after_dev"]["f1"]
    # The grid holds the starting threshold and the search only takes steps that raise F1.
    assert before <= global_ <= after
    # The copy predicts with what was found, and scores on dev what tuning printed.
    nlp = spacy.load(tmp_path / "tuned")
    pipe = nlp.get_pipe("span_ner")
    assert pipe.threshold == tuned["after"]["threshold"] and pipe.thresholds == tuned["after"]["thresholds"]
    assert pipe.calibration_temperature == pytest.approx(tuned["after"]["temperature"])
    out = tmp_path / "dev_results.json"
    result = runner.invoke(app, ["evaluate", str(tmp_path / "tuned"), str(half_trained / "dev.spacy"), "--output",
                                 str(out), "--reliability-diagram", str(tmp_path / "reliability.png")])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert scores["test_metrics"]["f1"] == pytest.approx(after, abs=1e-9)
    assert scores["calibration"]["ece"] == pytest.approx(tuned["after_dev"]["ece"], abs=1e-6)
    assert (tmp_path / "reliability.png").stat().st_size > 10_000
    # The original is untouched.
    original = spacy.load(half_trained / "pipeline").get_pipe("span_ner")
    assert original.thresholds == {} and original.threshold == 0.5


def test_tune_thresholds_of_an_int8_copy_writes_an_int8_copy(half_trained, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["quantize", str(half_trained / "pipeline"), str(tmp_path / "int8"), "--keep-float",
                               ".*query"]).exit_code == 0
    summary = tmp_path / "summary.json"
    result = runner.invoke(app, ["tune-thresholds", str(tmp_path / "int8"), str(half_trained / "dev.spacy"),
                                 str(tmp_path / "tuned"), "--summary", str(summary)])
    assert result.exit_code == 0, result.output
    tuned = json.loads(summary.read_text())
    nlp = spacy.load(tmp_path / "tuned")
    assert nlp.pipe_names[-1] == "int8_quantizer" and nlp.get_pipe("int8_quantizer").keep_float == [".*query"]
    assert nlp.get_pipe("int8_quantizer").quantized, "the tuned copy loads int8 again"
    assert nlp.get_pipe("span_ner").thresholds == tuned["after"]["thresholds"]
    out = tmp_path / "dev_results.json"
    assert runner.invoke(app, ["evaluate", str(tmp_path / "tuned"), str(half_trained / "dev.spacy"), "--output",
                               str(out)]).exit_code == 0
    assert json.loads(out.read_text())["test_metrics"]["f1"] == pytest.approx(tuned["after_dev"]["f1"], abs=1e-9)


def test_tune_thresholds_refuses_a_pipeline_without_thresholds(tiny_transformer, tmp_path):
    nlp = build_pipeline(tiny_transformer, "token_ner", {})
    train_pipeline(nlp, 1)
    nlp.to_disk(tmp_path / "token")
    DocBin(docs=[make_doc(nlp, *TRAIN_DATA[0])]).to_disk(tmp_path / "dev.spacy")
    result = CliRunner().invoke(app, ["tune-thresholds", str(tmp_path / "token"), str(tmp_path / "dev.spacy"),
                                      str(tmp_path / "out")])
    assert result.exit_code == 1 and "has no span_ner or contrastive_ner component" in result.output
    assert not (tmp_path / "out").exists()
