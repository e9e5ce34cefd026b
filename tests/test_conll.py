from pathlib import Path

import pytest
from spacy.vocab import Vocab

from spacy_ner_ext.corpus import CorpusFormatError, read_conll, write_conll

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
"""


def write(tmp_path: Path, text: str, name="data.txt", encoding="utf8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


def test_documents_and_sentences(tmp_path):
    docs = read_conll(write(tmp_path, CONLL), n_sents=10)
    assert len(docs) == 2  # -DOCSTART- splits documents; sentences are grouped inside them
    assert ents(docs[0]) == [("EU", "ORG"), ("German", "MISC"), ("Peter Blackburn", "PER")]
    assert [s.text for s in docs[0].sents] == ["EU rejects German call", "Peter Blackburn"]
    assert ents(docs[1]) == [("BRUSSELS", "LOC")]
    assert len(read_conll(write(tmp_path, CONLL), n_sents=1)) == 3
    assert len(read_conll(write(tmp_path, CONLL), limit=1)) == 1


def test_tag_first_and_prefix(tmp_path):
    mit = "B-Rating\t5\nI-Rating\tstar\nO\tplaces\n\nB-Cuisine\tthai\n"
    docs = read_conll(write(tmp_path, mit), tag_column=0, separator="\t")
    assert ents(docs[0]) == [("5 star", "Rating")] and ents(docs[1]) == [("thai", "Cuisine")]
    wiki = "en:Berlin\tB-LOC\nen:is\tO\n"
    assert ents(read_conll(write(tmp_path, wiki), token_prefix="en:")[0]) == [("Berlin", "LOC")]


def test_round_trip(tmp_path):
    docs = read_conll(write(tmp_path, CONLL), n_sents=10)
    write_conll(docs, tmp_path / "out.conll")
    again = read_conll(tmp_path / "out.conll", Vocab(), n_sents=1)
    assert [ents(d) for d in again] == [[("EU", "ORG"), ("German", "MISC")], [("Peter Blackburn", "PER")],
                                        [("BRUSSELS", "LOC")]]


def test_malformed_line(tmp_path):
    with pytest.raises(CorpusFormatError, match=r"data.txt, line 2: expected at least 2 columns"):
        read_conll(write(tmp_path, "EU B-ORG\nrejects\n"))


def test_bad_tag_names_line(tmp_path):
    with pytest.raises(CorpusFormatError, match=r"line 2: tag 'X-ORG' is not valid"):
        read_conll(write(tmp_path, "EU B-ORG\nrejects X-ORG\n"))


def test_empty_file(tmp_path):
    with pytest.raises(CorpusFormatError, match="data.txt: the file is empty"):
        read_conll(write(tmp_path, "\n\n"))
    with pytest.raises(CorpusFormatError, match="no sentences found"):
        read_conll(write(tmp_path, "-DOCSTART- -X- -X- O\n\n"))


def test_undecodable_bytes(tmp_path):
    path = write(tmp_path, b"EU B-ORG\nrejects O\ncaf\xe9 O\n")
    with pytest.raises(CorpusFormatError, match=r"data.txt, line 3: bytes that are not UTF-8"):
        read_conll(path)


def test_unknown_scheme(tmp_path):
    with pytest.raises(ValueError, match="Unknown tag scheme"):
        read_conll(write(tmp_path, CONLL), scheme="xyz")
