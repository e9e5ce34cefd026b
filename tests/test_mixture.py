"""The many-type mixture on tiny fixtures: types recorded and read back from the DocBin,
leave-out, caps and temperature with a seed, passages cut, a manifest of what went in."""
import random
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.training import Corpus

from spacy_ner_ext.corpus.annotated_types import annotated_types
from spacy_ner_ext.errors import UserInputError
from spacy_ner_ext.mixture.build import MixtureSettings, build_mixture, chosen_sources
from spacy_ner_ext.mixture.passages import cut_doc
from spacy_ner_ext.mixture.sampling import draw, mixture_counts
from spacy_ner_ext.mixture.sources import Source
from spacy_ner_ext.tests.util import make_doc


def words(doc):
    return " ".join(t.text for t in doc)


def conll(sentences):
    return "\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sentences) + "\n"


NEWS = [[("john", "B-PER"), ("visited", "O"), ("paris", "B-LOC")], [("acme", "B-ORG"), ("corp", "I-ORG"), ("said", "O")]]
BIO = [[("aspirin", "B-Chem"), ("eases", "O"), ("fever", "B-Dis")], [("no", "O"), ("effect", "O")]]


@pytest.fixture
def mirror(tmp_path):
    root = tmp_path / "data"
    for name, sents, n in (("news", NEWS, 6), ("bio", BIO, 30), ("shared", BIO, 3)):
        (root / name).mkdir(parents=True)
        (root / name / "train.txt").write_text(conll(sents * (n // 2)))
        (root / name / "test.txt").write_text(conll(sents))
    (root / "news" / "dev.txt").write_text(conll(NEWS))
    descriptions = tmp_path / "descriptions"
    descriptions.mkdir()
    srsly.write_json(descriptions / "news.json", {"PER": ["A person.", "Names of people."], "LOC": "A place.",
                                                  "ORG": "A company."})
    srsly.write_json(descriptions / "bio.json", {"Chem": "A chemical.", "Dis": ["A disease.", "An illness."]})
    srsly.write_json(descriptions / "shared.json", {"Chem": "A drug.", "Dis": "A disorder."})
    mapping = tmp_path / "mapping.json"
    srsly.write_json(mapping, {"news": {"PER": "person", "LOC": "location", "ORG": "organization"},
                               "bio": {"Chem": "chemical", "Dis": "disease"},
                               "shared": {"Chem": "chemical", "Dis": "disease"},
                               "_why": {"chemical": "both mark chemical names"}})
    options = {"scheme": "iob2", "tag_column": -1, "separator": "\t"}
    sources = {
        "news": Source("news", "news", {"train": ("train.txt",), "dev": ("dev.txt",), "test": ("test.txt",)}, "conll",
                       options, licence="CC BY 4.0"),
        "bio": Source("bio", "bio", {"train": ("train.txt",), "test": ("test.txt",)}, "conll", options),
        "shared": Source("shared", "shared", {"train": ("train.txt",)}, "conll", options,
                         shares_text_with=("bio",), non_commercial=True),
    }
    return root, mapping, descriptions, sources


def build(mirror, tmp_path, **settings):
    root, mapping, descriptions, sources = mirror
    out = tmp_path / "mix"
    manifest = build_mixture(spacy.blank("en"), root, out, mapping, descriptions, MixtureSettings(**settings),
                             sources, log=lambda line: None)
    return out, manifest


def test_annotated_types_are_recorded_and_read_back_as_spacy_train_reads(mirror, tmp_path):
    out, manifest = build(mirror, tmp_path, dev_docs=1)
    nlp = spacy.blank("en")
    examples = list(Corpus(out / "train.spacy")(nlp))
    # news 6 sentences; bio 30, one held out as its dev (it has no dev file); shared 2.
    assert len(examples) == manifest["train_docs"] == 6 + 29 + 2
    by_text = {}
    for eg in examples:
        by_text.setdefault(words(eg.reference), set()).add(tuple(annotated_types(eg.reference)))
    assert by_text["john visited paris"] == {("location", "organization", "person")}
    assert by_text["aspirin eases fever"] == {("chemical", "disease")}
    # Labels are the universal types.
    assert {e.label_ for eg in examples for e in eg.reference.ents} == {"person", "location", "organization",
                                                                          "chemical", "disease"}
    # Every universal type's descriptions: the first dataset's first, then the others', deduplicated.
    types = srsly.read_json(out / "types.json")
    assert types["disease"] == ["A disease.", "An illness.", "A disorder."]
    assert types["person"] == ["A person.", "Names of people."]
    source = {s["dataset"]: s for s in manifest["sources"]}
    assert source["news"]["entities_per_type"] == {"location": 3, "organization": 3, "person": 3}
    assert source["news"]["licence"] == "CC BY 4.0" and manifest["non_commercial_sources"] == ["shared"]
    assert source["news"]["dev_docs"] == 1 and source["bio"]["dev_docs"] == 1


def test_leave_out_takes_the_datasets_sharing_its_texts(mirror, tmp_path):
    out, manifest = build(mirror, tmp_path, leave_out=("bio",))
    assert manifest["left_out"] == ["bio", "shared"]
    assert [s["dataset"] for s in manifest["sources"]] == ["news"]
    texts = {words(eg.reference) for eg in Corpus(out / "train.spacy")(spacy.blank("en"))}
    assert "aspirin eases fever" not in texts
    # The left-out dataset's test split, with its own labels, for the zero-shot scores.
    test = list(Corpus(out / "left_out" / "bio" / "test.spacy")(spacy.blank("en")))
    assert {e.label_ for eg in test for e in eg.reference.ents} == {"Chem", "Dis"}
    with pytest.raises(UserInputError, match="unknown dataset"):
        chosen_sources(MixtureSettings(leave_out=("nope",)), mirror[3])


def test_an_unmapped_label_is_an_error(mirror, tmp_path):
    root, mapping, descriptions, sources = mirror
    chem = {"Chem": "chemical", "Dis": "disease"}
    srsly.write_json(mapping, {"news": {"PER": "person", "LOC": "location"}, "bio": chem, "shared": chem})
    with pytest.raises(ValueError, match="mapping.json, dataset 'news': no universal type for label\\(s\\) ORG"):
        build(mirror, tmp_path)


def test_counts_follow_n_to_the_alpha_under_caps():
    sizes = {"big": 900, "small": 100}
    # alpha 1: proportional to size; alpha 0: equal shares.
    assert mixture_counts(sizes, 100, 1.0, 10**6) == {"big": 90, "small": 10}
    assert mixture_counts(sizes, 100, 0.0, 10**6) == {"big": 50, "small": 50}
    # alpha 0.5: sqrt(900) : sqrt(100) = 30 : 10.
    assert mixture_counts(sizes, 100, 0.5, 10**6) == {"big": 75, "small": 25}
    # A cap: what the capped dataset cannot take goes to the others.
    assert mixture_counts(sizes, 400, 1.0, 300) == {"big": 300, "small": 100}
    assert mixture_counts(sizes, 10**6, 1.0, 10**6) == sizes


def test_draws_are_seeded(mirror, tmp_path):
    items = list(range(100))
    assert draw(items, 10, random.Random(3)) == draw(items, 10, random.Random(3))
    assert draw(items, 10, random.Random(3)) != draw(items, 10, random.Random(4))
    a, _ = build(mirror, tmp_path, train_docs=12, seed=1)
    first = [words(eg.reference) for eg in Corpus(a / "train.spacy")(spacy.blank("en"))]
    b, _ = build(mirror, tmp_path / "again", train_docs=12, seed=1)
    assert [words(eg.reference) for eg in Corpus(b / "train.spacy")(spacy.blank("en"))] == first
    c, _ = build(mirror, tmp_path / "other", train_docs=12, seed=2)
    assert [words(eg.reference) for eg in Corpus(c / "train.spacy")(spacy.blank("en"))] != first


def test_long_passages_are_cut_between_entities():
    nlp = spacy.blank("en")
    doc = make_doc(nlp, [f"w{i}" for i in range(10)], [(3, 6, "X"), (8, 9, "Y")])
    doc.user_data["k"] = 1
    pieces = cut_doc(doc, 4)
    # The window 0-4 would cut the entity 3-6: the cut moves back to 3.
    assert [words(p) for p in pieces] == ["w0 w1 w2", "w3 w4 w5 w6", "w7 w8 w9"]
    assert [[(e.text, e.label_) for e in p.ents] for p in pieces] == [[], [("w3 w4 w5", "X")], [("w8", "Y")]]
    assert all(p.user_data["k"] == 1 for p in pieces)


def test_leaving_out_a_dataset_takes_those_it_shares_texts_with_both_ways(mirror):
    sources = mirror[3]
    # "shared" names "bio" as sharing its texts: leaving either out takes both.
    assert chosen_sources(MixtureSettings(leave_out=("shared",)), sources)[1] == ["bio", "shared"]
    assert chosen_sources(MixtureSettings(leave_out=("bio",)), sources)[1] == ["bio", "shared"]


def test_non_commercial_sources_can_be_excluded(mirror, tmp_path):
    sources = mirror[3]
    chosen, left_out = chosen_sources(MixtureSettings(exclude_non_commercial=True), sources)
    assert [s.name for s in chosen] == ["bio", "news"] and left_out == []
    assert [s.name for s in chosen_sources(MixtureSettings(), sources)[0]] == ["bio", "news", "shared"]
    with pytest.raises(UserInputError, match="--only names shared, non-commercial"):
        chosen_sources(MixtureSettings(only=("news", "shared"), exclude_non_commercial=True), sources)
    _, manifest = build(mirror, tmp_path, exclude_non_commercial=True, train_docs=10)
    assert [s["dataset"] for s in manifest["sources"]] == ["bio", "news"]
    assert manifest["settings"]["exclude_non_commercial"] is True and manifest["non_commercial_sources"] == []


def test_excluding_non_commercial_corpora_leaves_out_every_registered_one_that_forbids_it():
    from spacy_ner_ext.mixture import registry  # noqa: F401  (fills SOURCES)
    from spacy_ner_ext.mixture.sources import SOURCES as REGISTERED

    chosen, _ = chosen_sources(MixtureSettings(exclude_non_commercial=True), REGISTERED)
    names = {s.name for s in chosen}
    assert {"MultiNERD", "WikiNeural", "pile-ner-slimer", "GUM"}.isdisjoint(names)
    assert {"conll2003", "wikiann", "bc2gm"} <= names


def test_an_entity_longer_than_the_window_is_never_cut():
    nlp = spacy.blank("en")
    doc = make_doc(nlp, [f"w{i}" for i in range(10)], [(0, 6, "X")])
    pieces = cut_doc(doc, 4)
    assert [words(p) for p in pieces] == ["w0 w1 w2 w3 w4 w5", "w6 w7 w8 w9"]
    assert [(e.text, e.label_) for e in pieces[0].ents] == [("w0 w1 w2 w3 w4 w5", "X")]


def test_types_with_spans_left_out_of_the_flat_entities_are_not_counted_as_annotated():
    from spacy.tokens import Span

    from spacy_ner_ext.corpus.annotated_types import mark_incomplete, set_annotated_types
    from spacy_ner_ext.mixture.build import relabel

    nlp = spacy.blank("en")
    labels = {"PER": "person", "LOC": "location", "ORG": "organization", "FAC": "facility"}
    doc = make_doc(nlp, "the new york office of acme".split(), [(1, 4, "FAC"), (5, 6, "ORG")])
    # Nested: "new york" is a LOC inside the FAC; only the FAC could be a flat entity.
    doc.spans["sc"] = [Span(doc, 1, 4, label="FAC"), Span(doc, 1, 3, label="LOC"), Span(doc, 5, 6, label="ORG")]
    relabel(doc, labels, sorted(labels.values()))
    assert annotated_types(doc) == ["facility", "organization", "person"]  # not location: it is there
    assert [(s.text, s.label_) for s in doc.spans["sc"]] == [("new york office", "facility"), ("new york", "location"),
                                                            ("acme", "organization")]
    # A reader's own record of what one Doc annotates (a (passage, type) question), minus a
    # label it could not read in full.
    question = make_doc(nlp, "acme hired mary".split(), [(2, 3, "PER")])
    set_annotated_types(question, ["PER", "ORG"])
    mark_incomplete(question, ["ORG"])
    relabel(question, labels, sorted(labels.values()))
    assert annotated_types(question) == ["person"]


def test_pile_ner_questions_annotate_their_one_type(tmp_path):
    import json
    import warnings

    from spacy_ner_ext.mixture.pile_ner import read_pile_ner_questions

    path = tmp_path / "questions.jsonl"
    rows = [{"doc_question_pairID": "1:0", "tagName": "programming language", "input": "We rewrote it in Rust and Go.",
             "output": json.dumps(["Rust", "Go"])},
            {"doc_question_pairID": "1:1", "tagName": "company", "input": "We rewrote it in Rust and Go.",
             "output": "[]"},
            {"doc_question_pairID": "2:0", "tagName": "city", "input": "She moved to Lyon.",
             "output": json.dumps(["Marseille"])}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        docs = read_pile_ner_questions(path, spacy.blank("en"))
    assert [[(e.text, e.label_) for e in d.ents] for d in docs] == [
        [("Rust", "programming language"), ("Go", "programming language")], [], []]
    assert [annotated_types(d) for d in docs] == [["programming language"], ["company"], ["city"]]
    # "Marseille" is nowhere in its passage: that question's type is marked incomplete, and said so.
    from spacy_ner_ext.corpus.annotated_types import incomplete_labels

    assert [incomplete_labels(d) for d in docs] == [[], [], ["city"]]
    assert any("1 of 3 entity strings not found" in str(w.message) for w in caught)
