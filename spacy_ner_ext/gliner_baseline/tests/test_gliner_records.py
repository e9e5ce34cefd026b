"""Docs as GLiNER records and back, and the scoring of the side-by-side run (no `gliner` needed)."""
import random

import pytest
import spacy
from spacy.tokens import Doc, Span

from spacy_ner_ext.corpus.annotated_types import set_annotated_types
from spacy_ner_ext.experiments.gliner_comparison import best_threshold, long_document, score_char_spans, type_prompts
from spacy_ner_ext.gliner_baseline.records import char_spans, doc_to_record, docs_to_records, gold_char_spans


VOCAB = spacy.blank("en").vocab


def make_doc(words, spaces, ents, annotated=None):
    doc = Doc(VOCAB, words=words, spaces=spaces)
    doc.ents = [Span(doc, s, e, label=l) for s, e, l in ents]
    if annotated is not None:
        set_annotated_types(doc, annotated)
    return doc


@pytest.fixture
def curie():
    # "Marie Curie visited Paris, then New York." : "Paris" ends before a comma with no space.
    return make_doc(["Marie", "Curie", "visited", "Paris", ",", "then", "New", "York", "."],
                    [True, True, True, False, True, True, True, False, False],
                    [(0, 2, "person"), (3, 4, "city"), (6, 8, "city")], annotated=["person", "city", "disease"])


def test_record_word_indices_and_back(curie):
    record = doc_to_record(curie)
    assert record["tokenized_text"] == ["Marie", "Curie", "visited", "Paris", ",", "then", "New", "York", "."]
    # GLiNER's spans end on their last word (inclusive).
    assert record["ner"] == [[0, 1, "person"], [3, 3, "city"], [6, 7, "city"]]
    assert char_spans(curie, record["ner"]) == [(0, 11, "person"), (20, 25, "city"), (32, 40, "city")]
    assert curie.text[32:40] == "New York"
    assert char_spans(curie, record["ner"]) == gold_char_spans(curie)


def test_round_trip_keeps_every_entity_on_many_docs():
    rng = random.Random(3)
    vocab = spacy.blank("en").vocab
    for _ in range(50):
        n = rng.randint(1, 12)
        doc = Doc(vocab, words=[rng.choice(["a", "bc", "def", ".", "Ghi"]) for _ in range(n)],
                  spaces=[rng.random() < 0.7 for _ in range(n)])
        ents, i = [], 0
        while i < n:
            width = rng.randint(1, 3)
            if rng.random() < 0.4 and i + width <= n:
                ents.append(Span(doc, i, i + width, label=rng.choice(["x", "y"])))
            i += width
        doc.ents = ents
        assert char_spans(doc, doc_to_record(doc)["ner"]) == gold_char_spans(doc)


def test_negatives_are_the_types_the_source_annotates_and_the_doc_lacks(curie):
    counts = set()
    for seed in range(20):
        negatives = doc_to_record(curie, rng=random.Random(seed))["ner_negatives"]
        # GLiNER's count: as many as the entities (3, only one type is left: 1) or none.
        assert negatives in ([], ["disease"])
        counts.add(len(negatives))
    assert counts == {0, 1}
    plain = make_doc(["Marie", "Curie"], [True, False], [(0, 2, "person")])
    # No record of annotated types: GLiNER's in-batch negatives (no key).
    assert "ner_negatives" not in doc_to_record(plain)
    empty = make_doc(["Nothing", "here"], [True, False], [], annotated=["person", "city"])
    assert len(doc_to_record(empty)["ner_negatives"]) == 1
    many = make_doc(["Marie", "and", "Pierre"], [True, True, False], [(0, 1, "person"), (2, 3, "person")],
                    annotated=["person"] + [f"t{i}" for i in range(40)])
    drawn = [doc_to_record(many, max_types=2, rng=random.Random(seed))["ner_negatives"] for seed in range(20)]
    assert {len(d) for d in drawn} == {0, 1}  # two entities, but room for one type beside "person"
    assert all(set(d) <= {f"t{i}" for i in range(40)} for d in drawn)


def test_type_shown_by_description_is_the_same_text_in_entities_and_negatives(curie):
    texts = {"person": ["A human being."], "city": ["A town."], "disease": ["An illness."]}
    record = next(r for r in (doc_to_record(curie, texts, name_probability=0.0, rng=random.Random(seed))
                               for seed in range(20)) if r["ner_negatives"])
    assert [span[2] for span in record["ner"]] == ["A human being.", "A town.", "A town."]
    assert record["ner_negatives"] == ["An illness."]
    by_name = docs_to_records([curie], texts, name_probability=1.0)[0]
    assert [span[2] for span in by_name["ner"]] == ["person", "city", "city"]


def test_char_spans_refuses_a_span_outside_the_doc(curie):
    with pytest.raises(ValueError, match="outside a Doc of 9 words"):
        char_spans(curie, [[8, 9, "city"]])


def test_score_counts_a_boundary_miss_as_wrong_and_by_source_only_the_annotated_types(curie):
    # "city" is annotated by curie's source, "drug" is not: by source, a "drug" span is no error.
    predicted = [[(0, 11, "person"), (20, 26, "city"), (32, 40, "city"), (12, 19, "drug")]]
    result = score_char_spans([curie], predicted)["test_metrics"]
    assert (result["correct"], result["predicted"], result["gold"]) == (2, 4, 3)
    by_source = score_char_spans([curie], predicted, by_source=True)["test_metrics"]
    assert (by_source["correct"], by_source["predicted"], by_source["gold"]) == (2, 3, 3)


def test_best_threshold_picks_the_one_that_drops_the_low_scored_wrong_span(curie):
    scored = [[(0, 11, "person", 0.9), (20, 25, "city", 0.6), (32, 40, "city", 0.35), (12, 19, "city", 0.3)]]
    result = best_threshold([curie], scored)
    # At 0.35 every gold span is kept and the wrong one (0.3) is not: F1 100.
    assert result["threshold"] == 0.35 and result["dev_f1"] == 100.0
    at_06 = next(r for r in result["curve"] if r["threshold"] == 0.6)
    assert at_06["f1"] == 80.0  # 2 of 3 found, none wrong


def test_best_threshold_scores_a_doc_on_its_sources_types_only(curie):
    # "disease" is annotated, "drug" is not: a "drug" span is no error, a "disease" one is.
    scored = [[(0, 11, "person", 0.9), (20, 25, "city", 0.9), (32, 40, "city", 0.9), (12, 19, "drug", 0.9)]]
    assert best_threshold([curie], scored)["dev_f1"] == 100.0
    scored[0][-1] = (12, 19, "disease", 0.9)
    assert best_threshold([curie], scored)["dev_f1"] == pytest.approx(85.71, abs=0.01)


def test_type_prompts_by_name_and_description():
    assert type_prompts(["Restaurant_Name", "Chemical"], "names") == {"Restaurant_Name": "restaurant name",
                                                                       "Chemical": "chemical"}
    assert type_prompts(["Chemical"], "descriptions", {"Chemical": "Drugs."}) == {"Chemical": "Drugs."}


def test_long_document_keeps_each_sentences_entities_at_their_new_offsets(curie):
    other = make_doc(["Aspirin", "helps", "."], [True, False, False], [(0, 1, "chemical")])
    doc = long_document([curie, other, curie], words=10)
    assert len(doc) == 12  # stops after the sentence that reaches 10 words
    spans = gold_char_spans(doc)
    assert [doc.text[s:e] for s, e, _ in spans] == ["Marie Curie", "Paris", "New York", "Aspirin"]


def _compare_gliner_fails(args):
    from typer.testing import CliRunner

    from spacy_ner_ext.cli import app

    result = CliRunner().invoke(app, ["compare-gliner", *args])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stdout + result.stderr
    return lines[0]


def test_compare_gliner_names_a_missing_mixture_file_in_one_line(tmp_path, monkeypatch):
    pytest.importorskip("gliner")
    # A fresh clone: none of the default inputs (descriptions, the CoNLL speed texts) exist yet.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mix").mkdir()
    (tmp_path / "mix" / "train.spacy").write_bytes(b"")
    line = _compare_gliner_fails(["mix", "--output", "out"])
    assert "mix: no dev.spacy; build the shipped model's mixture first" in line


def test_compare_gliner_names_missing_speed_texts_in_one_line(tmp_path, monkeypatch):
    pytest.importorskip("gliner")
    monkeypatch.chdir(tmp_path)
    for needed in ("train.spacy", "dev.spacy", "types.json", "manifest.json"):
        (tmp_path / "mix").mkdir(exist_ok=True)
        (tmp_path / "mix" / needed).write_bytes(b"")
    (tmp_path / "descriptions").mkdir()
    line = _compare_gliner_fails(["mix", "--descriptions", "descriptions", "--output", "out"])
    assert "corpus/conll2003/test.spacy: no such file for the speed stage" in line
