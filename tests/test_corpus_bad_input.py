"""Corpus files read as they are or refused, never misread: CoNLL lines with a column more or
fewer, spaces that are not column separators, lines that end at "\\n" only, formats inferred
from what a record holds, negative limits."""
import json

import pytest
import spacy
from spacy.vocab import Vocab

from spacy_ner_ext.corpus import CorpusFormatError, read_conll, read_docs, read_jsonl
from spacy_ner_ext.corpus.readers import infer_format
from spacy_ner_ext.errors import UserInputError

FOUR_COLUMNS = "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n{}\ncall NN I-NP O\n"


def write(tmp_path, text, name="data.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf8")
    return path


@pytest.mark.parametrize("line, found", [("LEICESTERSHIRE NNP B-NP", 3), ("German JJ B-NP B-MISC O", 5)])
def test_a_line_with_another_column_count_than_the_file_is_an_error_naming_it(tmp_path, line, found):
    # One column fewer would read the chunk tag B-NP as an entity of type NP; one more would
    # read the O after B-MISC and lose the entity.
    path = write(tmp_path, FOUR_COLUMNS.format(line))
    with pytest.raises(CorpusFormatError, match=rf"data.txt, line 3: {found} columns where line 1 has 4: '{line}'"):
        read_conll(path)


def test_a_non_breaking_space_stays_inside_its_token(tmp_path):
    path = write(tmp_path, "New\xa0York B-LOC\nis O\nbig\tO\n")
    (doc,) = read_conll(path)
    assert [t.text for t in doc] == ["New\xa0York", "is", "big"]
    assert [(e.text, e.label_) for e in doc.ents] == [("New\xa0York", "LOC")]


def test_a_unicode_line_separator_inside_a_token_does_not_end_the_line(tmp_path):
    path = write(tmp_path, "a\u2028b B-PER\r\nc O\r\n\r\nd B-LOC\n")
    docs = read_conll(path)
    assert [[t.text for t in d] for d in docs] == [["a\u2028b", "c"], ["d"]]
    assert [(e.text, e.label_) for e in docs[0].ents] == [("a\u2028b", "PER")]


def test_a_jsonl_string_may_hold_a_unicode_line_separator(tmp_path):
    record = {"text": "Ada\u2028Lovelace lived in London", "char_spans": [{"start": 22, "end": 28, "label": "LOC"}]}
    path = write(tmp_path, json.dumps(record, ensure_ascii=False) + "\n", "a.jsonl")
    (doc,) = read_jsonl(path, spacy.blank("en"))
    assert [(e.text, e.label_) for e in doc.ents] == [("London", "LOC")]


def test_jsonl_records_are_read_by_what_they_hold(tmp_path):
    lines = [{"id": "t", "tokens": ["Ada", "lived"], "token_spans": [{"start": 0, "end": 1, "label": "PER"}]},
             {"id": "c", "text": "Ada lived", "char_spans": [{"start": 0, "end": 3, "label": "PER"}]}]
    path = write(tmp_path, "".join(json.dumps(r) + "\n" for r in lines), "a.jsonl")
    docs = read_jsonl(path, spacy.blank("en"))
    assert [[(e.text, e.label_) for e in d.ents] for d in docs] == [[("Ada", "PER")], [("Ada", "PER")]]
    with pytest.raises(CorpusFormatError, match=r"a.jsonl, line 2 \(id 'c'\): 'tokens' must be a list .*has 'text'"):
        read_jsonl(path, spacy.blank("en"), annotation_format="tokens")
    bad = write(tmp_path, json.dumps({"id": 1, "words": ["a"]}) + "\n", "b.jsonl")
    with pytest.raises(CorpusFormatError, match=r"b.jsonl, line 1 \(id 1\): neither 'tokens'.*its fields: id, words"):
        read_jsonl(bad, spacy.blank("en"))


def test_the_format_of_a_file_is_inferred_from_what_it_holds(tmp_path):
    assert infer_format(write(tmp_path, "EU B-ORG\n", "a.txt")) == "conll"
    assert infer_format(write(tmp_path, json.dumps({"text": "x", "char_spans": []}) + "\n", "b.jsonl")) == "jsonl"
    assert infer_format(write(tmp_path, json.dumps({"tokens": ["x"]}) + "\n", "c.data")) == "jsonl"
    assert infer_format(write(tmp_path, json.dumps({"text": "x", "entities": [["x", "A"]]}) + "\n", "d.jsonl")) == "raw"
    assert infer_format(write(tmp_path, json.dumps([{"sentence": "x", "entities": []}]), "e.json")) == "gliner"


@pytest.mark.parametrize("format", ["conll", "jsonl", "gliner", "raw"])
def test_a_negative_limit_is_refused_by_every_reader(tmp_path, format):
    path = write(tmp_path, "EU B-ORG\n")
    with pytest.raises(UserInputError, match="limit must be a whole number of at least 0"):
        read_docs(path, spacy.blank("en"), format, limit=-1)


def test_n_sents_below_one_is_refused(tmp_path):
    with pytest.raises(UserInputError, match="n_sents must be a whole number of at least 1, not 0"):
        read_conll(write(tmp_path, "EU B-ORG\n"), Vocab(), n_sents=0)


@pytest.mark.parametrize("name, text, format", [
    ("a.jsonl", '{"text": "paris \\ud800", "char_spans": []}\n', "jsonl"),
    ("b.jsonl", '{"text": "paris today", "entities": [["paris", "LOC\\udc00"]]}\n', "raw"),
    ("c.json", '[{"sentence": "x \\ud83d", "entities": []}]', "gliner"),
])
def test_a_lone_surrogate_in_a_record_is_an_error_naming_it(tmp_path, name, text, format):
    # JSON allows "\ud800"; no text can hold it, and spaCy's tokenizer fails on it.
    path = write(tmp_path, text, name)
    where = "example 0" if format == "gliner" else "line 1"
    with pytest.raises(CorpusFormatError, match=rf"{name}, {where}: the (record|example) holds a lone surrogate U\+D"):
        read_docs(path, spacy.blank("en"), format)


def test_a_lone_surrogate_in_a_descriptions_file_is_refused(tmp_path):
    from spacy_ner_ext.corpus import load_descriptions

    path = write(tmp_path, '{"LOC": "a place \\udfff"}', "d.json")
    with pytest.raises(CorpusFormatError, match=r"d.json, label 'LOC': a lone surrogate U\+DFFF"):
        load_descriptions(path)


def test_conll_written_from_text_with_whitespace_tokens_reads_back(tmp_path):
    from spacy_ner_ext.corpus import write_conll

    nlp = spacy.blank("en")
    doc = nlp("Paris  is nice.\nRome too.")
    doc.ents = [doc.char_span(0, 5, label="LOC"), doc.char_span(16, 20, label="LOC")]
    write_conll([doc], tmp_path / "out.conll")
    (again,) = read_conll(tmp_path / "out.conll")
    assert [t.text for t in again] == [t.text for t in doc if not t.is_space]
    assert [(e.text, e.label_) for e in again.ents] == [("Paris", "LOC"), ("Rome", "LOC")]


def test_a_token_holding_a_space_cannot_be_written_as_conll(tmp_path):
    from spacy.tokens import Doc

    from spacy_ner_ext.corpus import write_conll

    doc = Doc(spacy.blank("en").vocab, words=["New York", "is"])
    with pytest.raises(CorpusFormatError, match=r"out.conll, doc 0, token 0: 'New York' holds a space"):
        write_conll([doc], tmp_path / "out.conll")
    assert not (tmp_path / "out.conll").exists()


def test_an_empty_separator_is_refused(tmp_path):
    with pytest.raises(UserInputError, match="separator must be a non-empty string"):
        read_conll(write(tmp_path, "EU B-ORG\n"), separator="")


@pytest.mark.parametrize("name, text, format", [
    ("a.jsonl", '{"tokens": ["a", "b"], "token_spans": [{"start": false, "end": 1, "label": "X"}]}\n', "jsonl"),
    ("b.json", '[{"sentence": "ab cd", "entities": [{"name": "ab", "type": "X", "pos": [false, 2]}]}]', "gliner"),
])
def test_a_boolean_offset_is_not_read_as_a_number(tmp_path, name, text, format):
    with pytest.raises(CorpusFormatError):
        read_docs(write(tmp_path, text, name), spacy.blank("en"), format)


def test_gliner_entities_must_be_a_list(tmp_path):
    path = write(tmp_path, '[{"sentence": "Peter lives", "entities": null}]', "g.json")
    with pytest.raises(CorpusFormatError, match=r"g.json, example 0: 'entities' must be a list, not None"):
        read_docs(path, spacy.blank("en"), "gliner")


def test_a_gold_entity_on_whitespace_tokens_is_trimmed_or_dropped_and_counted(tmp_path):
    from spacy_ner_ext.corpus import CorpusWarning

    record = {"text": "Peter  lives in  Rome", "char_spans": [{"start": 6, "end": 7, "label": "PER"},
                                                              {"start": 16, "end": 21, "label": "LOC"}]}
    path = write(tmp_path, json.dumps(record) + "\n", "a.jsonl")
    with pytest.warns(CorpusWarning, match="entities on whitespace tokens"):
        (doc,) = read_jsonl(path, spacy.blank("en"), alignment_mode="expand")
    assert [(e.text, e.label_) for e in doc.ents] == [("Rome", "LOC")]


def test_a_label_holding_a_space_cannot_be_written_as_conll(tmp_path):
    from spacy_ner_ext.corpus import write_conll

    doc = spacy.blank("en")("Paris is big")
    doc.ents = [doc.char_span(0, 5, label="GPE LOC")]
    with pytest.raises(CorpusFormatError, match=r"entity 'Paris': its label 'GPE LOC' holds a space"):
        write_conll([doc], tmp_path / "out.conll")


def test_an_entity_a_closing_scheme_never_closed_is_a_counted_repair(tmp_path):
    from spacy_ner_ext.corpus import CorpusWarning

    path = write(tmp_path, "a B-PER\nb O\nc S-LOC\n")
    with pytest.warns(CorpusWarning, match=r"entity not closed by an E-/L- tag: repaired 1 time\(s\) \(first at line 1\)"):
        (doc,) = read_conll(path, scheme="bioes")
    assert [(e.text, e.label_) for e in doc.ents] == [("a", "PER"), ("c", "LOC")]


def test_a_utf16_file_is_named_as_not_utf8(tmp_path):
    path = tmp_path / "u16.conll"
    path.write_bytes("EU B-ORG\n".encode("utf-16"))
    with pytest.raises(CorpusFormatError, match="u16.conll: not UTF-8 text: it looks like UTF-16"):
        read_conll(path)
