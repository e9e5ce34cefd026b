import pytest
import spacy
from spacy.training import Example

from spacy_ner_ext.corpus.tags import spans_to_iob2
from spacy_ner_ext.evaluation import score_entities
from spacy_ner_ext.evaluation.display import render_examples
from spacy_ner_ext.tests.util import make_doc


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


def random_entities(rng, n_words, labels=("PER", "ORG", "LOC", "MISC")):
    """Non-overlapping entities of 1 to 4 words over a doc of n_words."""
    ents, i = [], 0
    while i < n_words:
        i += int(rng.integers(0, 5))
        width = int(rng.integers(1, 5))
        if i + width > n_words:
            break
        ents.append((i, i + width, labels[int(rng.integers(len(labels)))]))
        i += width
    return ents


def test_same_numbers_as_seqeval_on_generated_tag_sequences():
    """2,000 generated docs with errors of every kind, scored here and by seqeval."""
    import numpy
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    nlp = spacy.blank("en")
    rng = numpy.random.default_rng(0)
    egs, y_true, y_pred = [], [], []
    for i in range(2000):
        n = int(rng.integers(1, 30))
        gold = random_entities(rng, n)
        pred = corrupt(gold, i) + ([] if i % 5 else random_entities(rng, n)[:1])
        pred = [p for k, p in enumerate(pred) if not any(p[0] < q[1] and q[0] < p[1] for q in pred[:k])]
        words = [f"w{k}" for k in range(n)]
        egs.append(example(nlp, words, gold, pred))
        y_true.append(spans_to_iob2(n, gold))
        y_pred.append(spans_to_iob2(n, pred))
    result = score_entities(egs).to_dict()
    m = result["test_metrics"]
    assert m["gold"] == sum(tag.startswith("B-") for tags in y_true for tag in tags) > 3000
    assert 0.3 < m["f1"] < 0.95  # errors of every kind were made, and most entities kept
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
