import json

import pytest
import spacy

from spacy_ner_ext.corpus import (
    CorpusFormatError, CorpusWarning, MatchReport, read_gliner_json, read_jsonl, read_raw_annotations,
    write_gliner_json, write_jsonl,
)


@pytest.fixture
def nlp():
    return spacy.blank("en")


def write_lines(path, objs):
    path.write_text("\n".join(json.dumps(o) if not isinstance(o, str) else o for o in objs) + "\n", encoding="utf8")
    return path


def spans(doc, key=None):
    group = doc.spans[key] if key else doc.ents
    return [(s.text, s.label_) for s in group]


def test_jsonl_tokens_and_text(tmp_path, nlp):
    path = write_lines(tmp_path / "a.jsonl", [
        {"id": "x1", "tokens": ["Ada", "Lovelace", "lived", "in", "London"],
         "token_spans": [{"start": 0, "end": 2, "label": "PER"}, {"start": 4, "end": 5, "label": "LOC"}]},
    ])
    (doc,) = read_jsonl(path, nlp)
    assert spans(doc) == [("Ada Lovelace", "PER"), ("London", "LOC")] and doc.user_data["id"] == "x1"
    path = write_lines(tmp_path / "b.jsonl", [
        {"id": 7, "text": "Ada Lovelace lived in London.", "char_spans": [{"start": 22, "end": 28, "label": "LOC"}]},
    ])
    (doc,) = read_jsonl(path, nlp, annotation_format="text")
    assert spans(doc) == [("London", "LOC")]


def test_jsonl_round_trip(tmp_path, nlp):
    path = write_lines(tmp_path / "a.jsonl", [
        {"id": "n", "text": "New York City is big.", "char_spans": [
            {"start": 0, "end": 8, "label": "LOC"}, {"start": 0, "end": 13, "label": "LOC"}]},
    ])
    docs = read_jsonl(path, nlp, annotation_format="text", on_overlap="keep_longest")
    write_jsonl(docs, tmp_path / "out.jsonl")
    record = json.loads((tmp_path / "out.jsonl").read_text())
    assert record["char_spans"] == [{"start": 0, "end": 8, "label": "LOC"}, {"start": 0, "end": 13, "label": "LOC"}]
    again = read_jsonl(tmp_path / "out.jsonl", nlp, on_overlap="keep_longest")
    assert spans(again[0], "sc") == spans(docs[0], "sc") and spans(again[0]) == [("New York City", "LOC")]


@pytest.mark.parametrize(
    "obj,fmt,message",
    [
        ({"id": "e1", "tokens": ["a", "b"], "token_spans": [{"start": 1, "end": 3, "label": "X"}]}, "tokens",
         r"line 1 \(id 'e1'\): span .* is out of range: the example has 2 tokens"),
        ({"id": "e2", "text": "Ada Lovelace", "char_spans": [{"start": 1, "end": 5, "label": "PER"}]}, "text",
         r"line 1 \(id 'e2'\): character span .* does not fall on token boundaries"),
        ({"id": "e3", "tokens": ["a", "b"], "token_spans": [
            {"start": 0, "end": 2, "label": "X"}, {"start": 1, "end": 2, "label": "Y"}]}, "tokens",
         r"line 1 \(id 'e3'\): overlapping entities"),
        ({"id": "e4", "tokens": ["a"], "token_spans": [{"start": 0, "label": "X"}]}, "tokens", "has no 'end'"),
        ({"id": "e5", "tokens": "a b"}, "tokens", "'tokens' must be a list"),
    ],
)
def test_jsonl_errors_name_the_example(tmp_path, nlp, obj, fmt, message):
    path = write_lines(tmp_path / "bad.jsonl", [obj])
    with pytest.raises(CorpusFormatError, match=message):
        read_jsonl(path, nlp, annotation_format=fmt)


def test_jsonl_invalid_json_line(tmp_path, nlp):
    path = write_lines(tmp_path / "bad.jsonl", [{"tokens": ["a"]}, "{not json"])
    with pytest.raises(CorpusFormatError, match=r"bad.jsonl, line 2: invalid JSON"):
        read_jsonl(path, nlp)


def test_keep_longest_is_counted(tmp_path, nlp):
    path = write_lines(tmp_path / "a.jsonl", [{"tokens": ["a", "b"], "token_spans": [
        {"start": 0, "end": 2, "label": "X"}, {"start": 1, "end": 2, "label": "Y"}]}])
    with pytest.warns(CorpusWarning, match="kept the longest"):
        (doc,) = read_jsonl(path, nlp, on_overlap="keep_longest")
    assert spans(doc) == [("a b", "X")] and len(doc.spans["sc"]) == 2


def test_gliner_json(tmp_path, nlp):
    data = [{"sentence": "Ada Lovelace met Babbage.", "entities": [
        {"name": "Ada Lovelace", "type": "PER", "pos": [0, 12]}, {"name": "Babbage", "type": "PER", "pos": [17, 24]}]}]
    (tmp_path / "g.json").write_text(json.dumps(data))
    docs = read_gliner_json(tmp_path / "g.json", nlp)
    assert spans(docs[0]) == [("Ada Lovelace", "PER"), ("Babbage", "PER")]
    write_gliner_json(docs, tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text()) == data
    data[0]["entities"][1]["pos"] = [16, 23]
    (tmp_path / "g.json").write_text(json.dumps(data))
    with pytest.raises(CorpusFormatError, match=r"example 0: entity 'Babbage' does not match the text at 16:23"):
        read_gliner_json(tmp_path / "g.json", nlp)


def test_raw_exact_every_occurrence_and_fuzzy(tmp_path, nlp):
    path = write_lines(tmp_path / "raw.jsonl", [
        {"id": "r1", "text": "Paris is big. I love Paris and the Eiffel Towers.",
         "entities": [{"text": "Paris", "label": "LOC"}, {"text": "Eiffel Tower", "label": "FAC"}]},
    ])
    report = MatchReport()
    (doc,) = read_raw_annotations(path, nlp, fuzzy_threshold=85, report=report)
    assert spans(doc) == [("Paris", "LOC"), ("Paris", "LOC"), ("Eiffel Towers", "FAC")]
    assert (report.exact, report.fuzzy, report.unmatched) == (2, 1, [])


def test_raw_exact_needs_token_boundaries(tmp_path, nlp):
    path = write_lines(tmp_path / "raw.jsonl", [
        {"id": "r1", "text": "Parisian food in Paris", "entities": [["Paris", "LOC"]]}])
    (doc,) = read_raw_annotations(path, nlp, fuzzy_threshold=100)
    assert [(e.start, e.text) for e in doc.ents] == [(3, "Paris")]


def test_raw_unmatched_are_reported_with_id(tmp_path, nlp):
    path = write_lines(tmp_path / "raw.jsonl", [
        {"id": "r9", "text": "Nothing to see here.", "entities": [{"text": "Gotham", "label": "LOC"}]}])
    report = MatchReport()
    with pytest.warns(CorpusWarning, match=r"1 mention\(s\) not found .*id 'r9': 'Gotham' \(LOC\)"):
        read_raw_annotations(path, nlp, report=report)
    assert report.unmatched == [("r9", "Gotham", "LOC")]
    with pytest.raises(CorpusFormatError, match="id 'r9'"):
        read_raw_annotations(path, nlp, strict=True)
