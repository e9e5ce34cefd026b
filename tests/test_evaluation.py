from pathlib import Path

import pytest
import spacy
from spacy.training import Example

from spacy_ner_ext.corpus import read_conll
from spacy_ner_ext.corpus.tags import spans_to_iob2
from spacy_ner_ext.evaluation import score_entities
from spacy_ner_ext.evaluation.display import render_examples
from spacy_ner_ext.tests.util import make_doc

CONLL_DEV = Path(__file__).parent.parent.parent / "shared" / "data" / "conll2003" / "dev.txt"


def example(nlp, words, gold, pred):
    return Example(make_doc(nlp, words, pred), make_doc(nlp, words, gold))


def test_hand_counted():
    nlp = spacy.blank("en")
    words = "a b c d e f".split()
    egs = [
        example(nlp, words, [(0, 1, "PER"), (2, 4, "LOC")], [(0, 1, "PER"), (2, 3, "LOC"), (5, 6, "ORG")]),
        example(nlp, words, [(1, 2, "ORG")], [(1, 2, "ORG")]),
    ]
    result = score_entities(egs).to_dict()
    m = result["test_metrics"]
    assert (m["gold"], m["predicted"], m["correct"]) == (3, 4, 2)
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    per = result["per_type"]
    assert per["PER"]["f1"] == pytest.approx(1.0) and per["LOC"]["f1"] == 0.0
    assert per["ORG"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "gold": 1, "predicted": 2, "correct": 1})
    assert m["macro_f1"] == pytest.approx((1.0 + 0.0 + 2 / 3) / 3)


def corrupt(doc_ents, i):
    """Deterministic prediction errors of the usual kinds: misses, wrong types, wrong boundaries."""
    out = []
    for j, (s, e, label) in enumerate(doc_ents):
        k = (i + j) % 7
        if k == 0:
            continue
        if k == 1:
            label = "MISC" if label != "MISC" else "ORG"
        if k == 2 and e - s > 1:
            e -= 1
        out.append((s, e, label))
    return out


@pytest.mark.skipif(not CONLL_DEV.exists(), reason="needs the CoNLL-2003 mirror in ../shared/data")
def test_same_numbers_as_seqeval_on_conll_dev():
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    nlp = spacy.blank("en")
    docs = read_conll(CONLL_DEV, nlp.vocab)
    egs, y_true, y_pred = [], [], []
    for i, doc in enumerate(docs):
        gold = [(e.start, e.end, e.label_) for e in doc.ents]
        pred = corrupt(gold, i)
        words = [t.text for t in doc]
        egs.append(example(nlp, words, gold, pred))
        y_true.append(spans_to_iob2(len(doc), gold))
        y_pred.append(spans_to_iob2(len(doc), pred))
    result = score_entities(egs).to_dict()
    m = result["test_metrics"]
    assert m["gold"] == 5942
    assert m["precision"] == pytest.approx(precision_score(y_true, y_pred))
    assert m["recall"] == pytest.approx(recall_score(y_true, y_pred))
    assert m["f1"] == pytest.approx(f1_score(y_true, y_pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    report = classification_report(y_true, y_pred, output_dict=True)
    for label, scores in result["per_type"].items():
        assert scores["f1"] == pytest.approx(report[label]["f1-score"])
        assert scores["gold"] == report[label]["support"]


def test_display_page_marks_errors():
    nlp = spacy.blank("en")
    words = "Ada met Bob in Rome".split()
    page = render_examples([example(nlp, words, [(0, 1, "PER"), (2, 3, "PER")], [(0, 1, "PER"), (4, 5, "ORG")])])
    assert "1 missed, 1 wrong" in page
    assert "PER MISSED" in page and "ORG WRONG" in page
