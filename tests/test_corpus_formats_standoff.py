"""The five annotation formats beside CoNLL and JSONL: BRAT standoff, PubTator, DyGIE JSON
lines, HIPE TSV and inline XML, read from tiny hand-made files back to the exact entities,
with bad input refused naming the file and line, nesting resolved, and the format inferred."""
import json
import warnings

import pytest
import spacy
from spacy.util import registry

from spacy_ner_ext.corpus import CorpusFormatError, CorpusWarning, read_docs
from spacy_ner_ext.corpus.brat import read_brat
from spacy_ner_ext.corpus.dygie import read_dygie
from spacy_ner_ext.corpus.hipe import read_hipe
from spacy_ner_ext.corpus.inline_xml import read_inline_xml
from spacy_ner_ext.corpus.pubtator import read_pubtator
from spacy_ner_ext.corpus.readers import FORMATS, infer_format


def write(path, text):
    path.write_text(text, encoding="utf8")
    return path


def ents(doc):
    return [(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents]


def all_spans(doc):
    return sorted((s.text, s.label_) for s in doc.spans["sc"])


@pytest.fixture
def nlp():
    return spacy.blank("en")


# --- BRAT -------------------------------------------------------------------------------

BRAT_TXT = "Ada Lovelace met Charles Babbage in London.\nThe Analytical Engine was his.\n"
BRAT_ANN = (
    "T1\tPER 0 12\tAda Lovelace\n"
    "T2\tPER 17 32\tCharles Babbage\n"
    "T3\tLOC 36 42\tLondon\n"
    "T4\tPER 25 32\tBabbage\n"
    "R1\tmet Arg1:T1 Arg2:T2\t\n"
    "#1\tAnnotatorNotes T1\ta note\n"
    "A1\tNegated T3\n"
    "T5\tMISC 48 58;59 65\tAnalytical Engine\n"
)


def brat_pair(folder, stem="story", txt=BRAT_TXT, ann=BRAT_ANN):
    write(folder / f"{stem}.txt", txt)
    return write(folder / f"{stem}.ann", ann)


@pytest.mark.filterwarnings("ignore:.*overlapping entities")
def test_brat_reads_a_doc_a_line_with_nested_and_discontinuous_entities(tmp_path, nlp):
    ann = brat_pair(tmp_path)
    with pytest.warns(CorpusWarning, match="discontinuous entities: read as their whole extent: repaired 1 time"):
        first, second = read_brat(ann, nlp)
    assert first.text == "Ada Lovelace met Charles Babbage in London."
    assert ents(first) == [("Ada Lovelace", "PER", 0, 12), ("Charles Babbage", "PER", 17, 32), ("London", "LOC", 36, 42)]
    # The nested "Babbage" stays in the span group; doc.ents keeps the longest.
    assert all_spans(first) == [("Ada Lovelace", "PER"), ("Babbage", "PER"), ("Charles Babbage", "PER"),
                                ("London", "LOC")]
    # 48-58;59 65 on line 2 (which starts at 44): the whole extent, 4-21 within the line.
    assert ents(second) == [("Analytical Engine", "MISC", 4, 21)]
    assert [first.user_data["id"], second.user_data["id"]] == ["story:1", "story:2"]


@pytest.mark.filterwarnings("ignore:.*overlapping entities")
def test_brat_options_skip_discontinuous_and_read_whole_files(tmp_path, nlp):
    ann = brat_pair(tmp_path)
    with pytest.warns(CorpusWarning, match="discontinuous entities: left out"):
        _, second = read_brat(ann, nlp, discontinuous="skip")
    assert ents(second) == []
    with pytest.raises(CorpusFormatError, match=r"story.ann, line 8: entity T5 is discontinuous \(48 58;59 65\)"):
        read_brat(ann, nlp, discontinuous="error")
    with pytest.warns(CorpusWarning):
        (doc,) = read_brat(tmp_path / "story.txt", nlp, split_lines=False)
    assert doc.text == BRAT_TXT
    assert ents(doc)[-1] == ("Analytical Engine", "MISC", 48, 65)
    with pytest.raises(CorpusFormatError, match="overlapping entities 'Charles Babbage'"):
        read_brat(ann, nlp, on_overlap="error", discontinuous="skip")


def test_brat_reads_a_folder_of_pairs_in_name_order(tmp_path, nlp):
    brat_pair(tmp_path, "b", "Rome.\n", "T1\tGPE 0 4\tRome\n")
    brat_pair(tmp_path, "a", "Oslo and Bergen\n", "T1\tGPE 0 4\tOslo\nT2\tGPE 9 15\tBergen\n")
    write(tmp_path / "notes.txt", "a text with no .ann beside it")
    docs = read_brat(tmp_path, nlp)
    assert [(d.user_data["id"], ents(d)) for d in docs] == [
        ("a:1", [("Oslo", "GPE", 0, 4), ("Bergen", "GPE", 9, 15)]), ("b:1", [("Rome", "GPE", 0, 4)])]
    assert infer_format(tmp_path) == "brat"
    assert [ents(d) for d in read_docs(tmp_path / "a.txt", nlp, "brat")] == [ents(docs[0])]


def test_brat_text_that_does_not_match_the_offsets_names_the_ann_line(tmp_path, nlp):
    ann = brat_pair(tmp_path, ann="T1\tPER 0 12\tAda Lovelace\nT2\tLOC 36 42\tLondn\n")
    with pytest.raises(CorpusFormatError, match=r"story.ann, line 2: entity T2 'Londn' does not match the .txt at "
                                                r"36 42 \('London'\)"):
        read_brat(ann, nlp)
    write(ann, "T1\tPER 0 12\tAda Lovelace\nT2\tLOC 40 90\tx\n")
    with pytest.raises(CorpusFormatError, match=r"story.ann, line 2: entity T2: offsets 40 90 are out of range"):
        read_brat(ann, nlp)
    write(ann, "T1\tPER zero 12\tAda Lovelace\n")
    with pytest.raises(CorpusFormatError, match=r"story.ann, line 1: entity T1: expected 'Label start end'"):
        read_brat(ann, nlp)
    write(ann, "T1\tPER 36 47\tLondon. The\n")  # BRAT writes the line break in a mention as a space
    with pytest.raises(CorpusFormatError, match=r"story.ann, line 1: the entity at 36-47 .* runs across a line break"):
        read_brat(ann, nlp)
    (tmp_path / "story.txt").unlink()
    with pytest.raises(CorpusFormatError, match=r"story.ann: its BRAT partner story.txt is not beside it"):
        read_brat(ann, nlp)


def test_brat_offsets_off_token_boundaries_are_expanded_and_counted(tmp_path, nlp):
    ann = brat_pair(tmp_path, ann="T1\tPER 0 11\tAda Lovelac\n")
    with pytest.warns(CorpusWarning, match="entity offsets not on token boundaries: moved to them .*story.ann, line 1"):
        first, _ = read_brat(ann, nlp)
    assert ents(first) == [("Ada Lovelace", "PER", 0, 12)]
    with pytest.raises(CorpusFormatError, match=r"story.ann, line 1: character span .* does not fall on token"):
        read_brat(ann, nlp, alignment_mode="strict")


def test_brat_files_are_inferred(tmp_path):
    ann = brat_pair(tmp_path)
    assert infer_format(ann) == "brat"
    assert infer_format(tmp_path / "story.txt") == "brat"


# --- PubTator ---------------------------------------------------------------------------

PUBTATOR = (
    "123|t|Aspirin lowers fever.\n"
    "123|a|Fever in mice fell.\n"
    "123\t0\t7\tAspirin\tChemical\tD001241\n"
    "123\t15\t20\tfever\tDisease\tD005334\n"
    "123\t22\t27\tFever\tDisease\tD005334\n"
    "123\t31\t35\tmice\tSpecies\t10090\n"
    "123\tCID\tD001241\tD005334\n"
    "\n"
    "456|t|No abstract here.\n"
    "456\t3\t11\tabstract\tThing\n"
)


def test_pubtator_reads_title_and_abstract_as_one_doc(tmp_path, nlp):
    path = write(tmp_path / "a.PubTator", PUBTATOR)
    first, second = read_pubtator(path, nlp)
    assert first.text == "Aspirin lowers fever. Fever in mice fell."
    assert ents(first) == [("Aspirin", "Chemical", 0, 7), ("fever", "Disease", 15, 20), ("Fever", "Disease", 22, 27),
                           ("mice", "Species", 31, 35)]
    assert first.user_data["pmid"] == "123"
    assert (second.text, ents(second), second.user_data["pmid"]) == (
        "No abstract here.", [("abstract", "Thing", 3, 11)], "456")
    assert infer_format(path) == "pubtator"


def test_pubtator_nested_mentions_keep_the_longest_or_are_refused(tmp_path, nlp):
    path = write(tmp_path / "n.txt", "9|t|Aspirin lowers fever.\n9\t8\t20\tlowers fever\tEffect\n9\t15\t20\tfever\tDisease\n")
    with pytest.warns(CorpusWarning, match="overlapping entities: kept the longest"):
        (doc,) = read_pubtator(path, nlp)
    assert ents(doc) == [("lowers fever", "Effect", 8, 20)]
    assert all_spans(doc) == [("fever", "Disease"), ("lowers fever", "Effect")]
    with pytest.raises(CorpusFormatError, match=r"n.txt, line 1 \(PMID 9\): overlapping entities 'lowers fever'"):
        read_pubtator(path, nlp, on_overlap="error")


@pytest.mark.parametrize("line, problem", [
    ("123\t15\t20\tfevers\tDisease", r"line 3: the mention 'fevers' does not match the text at 15-20 \('fever'\)"),
    ("123\t15\t99\tfever\tDisease", r"line 3: offsets 15-99 are out of range: the document has 41 characters"),
    ("124\t15\t20\tfever\tDisease", r"line 3: PMID '124' in the document of PMID '123' \(line 1\)"),
    ("123\t15\t20\tfever", r"line 3: a mention line needs PMID, start, end, mention and type"),
])
def test_pubtator_bad_mention_lines_are_errors_naming_the_line(tmp_path, nlp, line, problem):
    path = write(tmp_path / "bad.PubTator", "123|t|Aspirin lowers fever.\n123|a|Fever in mice fell.\n" + line + "\n")
    with pytest.raises(CorpusFormatError, match="bad.PubTator, " + problem):
        read_pubtator(path, nlp)


def test_pubtator_an_abstract_without_its_title_is_an_error(tmp_path, nlp):
    path = write(tmp_path / "x.PubTator", "1|t|A title.\n2|a|An abstract.\n")
    with pytest.raises(CorpusFormatError, match=r"x.PubTator, line 2: an abstract \(2\|a\|\) that does not follow"):
        read_pubtator(path, nlp)


# --- DyGIE ------------------------------------------------------------------------------

DYGIE = {
    "doc_key": "d1",
    "sentences": [["Neural", "parsers", "use", "LSTMs", "."], ["We", "test", "on", "PTB", "."]],
    # Token indices over the whole document, ends included: PTB is token 8 (3 of sentence 1).
    "ner": [[[0, 1, "Method"], [1, 1, "Task"], [3, 3, "Method"]], [[8, 8, "Material"]]],
    "relations": [[], []],
}


def test_dygie_reads_a_doc_a_sentence_with_document_token_offsets(tmp_path, nlp):
    path = write(tmp_path / "train.json", json.dumps(DYGIE) + "\n")
    with pytest.warns(CorpusWarning, match="overlapping entities: kept the longest"):
        first, second = read_dygie(path, nlp)
    assert [t.text for t in first] == ["Neural", "parsers", "use", "LSTMs", "."]
    assert [(e.text, e.label_, e.start, e.end) for e in first.ents] == [("Neural parsers", "Method", 0, 2),
                                                                       ("LSTMs", "Method", 3, 4)]
    assert all_spans(first) == [("LSTMs", "Method"), ("Neural parsers", "Method"), ("parsers", "Task")]
    assert [(e.text, e.label_, e.start, e.end) for e in second.ents] == [("PTB", "Material", 3, 4)]
    assert (second.user_data["doc_key"], second.user_data["id"]) == ("d1", "d1:1")
    assert infer_format(path) == "dygie"
    with pytest.raises(CorpusFormatError, match=r"train.json, line 1 \(doc_key 'd1'\), sentence 0: overlapping"):
        read_dygie(path, nlp, on_overlap="error")


def test_dygie_entities_outside_their_sentence_or_a_ner_list_per_sentence_missing_are_errors(tmp_path, nlp):
    record = dict(DYGIE, ner=[[[3, 5, "Method"]], []])
    path = write(tmp_path / "bad.json", json.dumps(DYGIE) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(CorpusFormatError, match=r"bad.json, line 2 \(doc_key 'd1'\), sentence 0: entity \[3, 5, "
                                                r"'Method'\] is outside its sentence, tokens 0-4"):
        read_dygie(path, nlp)
    write(path, json.dumps(dict(DYGIE, ner=[[]])) + "\n")
    with pytest.raises(CorpusFormatError, match=r"bad.json, line 1 \(doc_key 'd1'\): 'ner' must be a list of entity "
                                                r"lists, one per sentence \(2\), not 1 lists"):
        read_dygie(path, nlp)


# --- HIPE -------------------------------------------------------------------------------

HIPE = (
    "TOKEN\tNE-COARSE-LIT\tNE-FINE-LIT\tMISC\n"
    "# hipe2022:document_id = doc-a\n"
    "# hipe2022:applicable_columns = TOKEN NE-COARSE-LIT NE-FINE-LIT MISC\n"
    "Mr\tB-pers\tB-pers.ind\tNoSpaceAfter\n"
    ".\tI-pers\tI-pers.ind\tEndOfSentence\n"  # a sentence end inside the entity (line 5)
    "Smith\tI-pers\tI-pers.ind\t_\n"
    "went\tO\tO\t_\n"
    "to\tO\tO\t_\n"
    "Paris\tB-loc\tB-loc.adm.town\tNoSpaceAfter\n"
    ".\tO\tO\tEndOfSentence\n"
    "#\tO\tO\t_\n"  # a token, not a comment: it has the header's columns
    "1\tO\tO\tEndOfLine\n"
    "\n"
    "# hipe2022:document_id = doc-b\n"
    "The\tB-org\tB-org.ent.pressagency\t_\n"
    "Times\tI-org\tI-org.ent.pressagency\tEndOfLine\n"
    "wrote\tO\tO\t_\n"
)


def test_hipe_reads_sentences_spaces_and_iob_tags(tmp_path, nlp):
    path = write(tmp_path / "hipe.tsv", HIPE)
    with pytest.warns(CorpusWarning, match=r"sentence ends inside an entity: not taken .*: repaired 1 "
                                           r"time\(s\) \(first at line 5\)"):
        docs = read_hipe(path, nlp)
    assert [d.text for d in docs] == ["Mr. Smith went to Paris.", "# 1", "The Times wrote"]
    assert [ents(d) for d in docs] == [[("Mr. Smith", "pers", 0, 9), ("Paris", "loc", 18, 23)], [],
                                       [("The Times", "org", 0, 9)]]
    assert [d.user_data["id"] for d in docs] == ["doc-a:0", "doc-a:1", "doc-b:0"]
    with pytest.warns(CorpusWarning):
        fine = read_hipe(path, nlp, column="NE-FINE-LIT")
    assert [[e.label_ for e in d.ents] for d in fine] == [["pers.ind", "loc.adm.town"], [], ["org.ent.pressagency"]]
    assert infer_format(path) == "hipe"


def test_hipe_bad_lines_and_columns_are_errors_naming_the_line(tmp_path, nlp):
    path = write(tmp_path / "bad.tsv", HIPE.replace("went\tO\tO\t_", "went\tO\t_"))
    with pytest.raises(CorpusFormatError, match=r"bad.tsv, line 7: 3 columns where the header has 4: 'went\\tO\\t_'"):
        read_hipe(path, nlp)
    with pytest.raises(CorpusFormatError, match=r"bad.tsv, line 1: no column 'NE-NESTED' in the header"):
        read_hipe(path, nlp, column="NE-NESTED")
    write(path, HIPE.replace("TOKEN NE-COARSE-LIT NE-FINE-LIT MISC", "TOKEN NE-COARSE-LIT MISC"))
    with pytest.raises(CorpusFormatError, match=r"bad.tsv, line 3: the column 'NE-FINE-LIT' is not among this "
                                                r"document's applicable columns"):
        read_hipe(path, nlp, column="NE-FINE-LIT")
    write(path, HIPE.replace("B-loc\t", "X-loc\t"))
    with pytest.raises(CorpusFormatError, match=r"bad.tsv, line 9: tag 'X-loc' is not valid in the IOB2 scheme"):
        read_hipe(path, nlp)


def test_hipe_without_sentence_flags_reads_a_doc_a_segment(tmp_path, nlp):
    path = write(tmp_path / "seg.tsv", "TOKEN\tNE-COARSE-LIT\tMISC\nBig\tO\t_\nBen\tB-loc\tNoSpaceAfter\n.\tO\t_\n"
                                       "\nRome\tB-loc\t_\nfell\tO\t_\n")
    docs = read_hipe(path, nlp)
    assert [(d.text, ents(d)) for d in docs] == [("Big Ben.", [("Ben", "loc", 4, 7)]),
                                                 ("Rome fell", [("Rome", "loc", 0, 4)])]


# --- inline XML -------------------------------------------------------------------------

XML = """<?xml version="1.0" encoding="UTF-8"?>
<corpus><p>
<sentence xml:id="s1"> <ENAMEX type="PERSON">Marie Curie</ENAMEX> worked in <ENAMEX type="LOCATION">Paris</ENAMEX>.</sentence>
<sentence xml:id="s2">The <ENAMEX type="INSTITUTION"><ENAMEX type="LOCATION">Sorbonne</ENAMEX> University</ENAMEX> is old &amp; big.</sentence>
</p></corpus>
"""


def test_inline_xml_reads_a_doc_a_sentence_with_nested_entities(tmp_path, nlp):
    path = write(tmp_path / "a.xml", XML)
    with pytest.warns(CorpusWarning, match="overlapping entities: kept the longest .*first at line 4"):
        first, second = read_inline_xml(path, nlp)
    assert first.text == "Marie Curie worked in Paris."
    assert ents(first) == [("Marie Curie", "PERSON", 0, 11), ("Paris", "LOCATION", 22, 27)]
    assert second.text == "The Sorbonne University is old & big."
    assert ents(second) == [("Sorbonne University", "INSTITUTION", 4, 23)]
    assert all_spans(second) == [("Sorbonne", "LOCATION"), ("Sorbonne University", "INSTITUTION")]
    assert [first.user_data["id"], second.user_data["id"]] == ["s1", "s2"]
    assert infer_format(path) == "inline_xml"


def test_inline_xml_element_and_attribute_names_are_options(tmp_path, nlp):
    path = write(tmp_path / "b.xml", '<doc><s>See <ne cat="GPE">Oslo</ne> now</s><s>Nothing</s></doc>')
    docs = read_inline_xml(path, nlp, entity_tag="ne", label_attribute="cat", sentence_tag="s")
    assert [(d.text, ents(d)) for d in docs] == [("See Oslo now", [("Oslo", "GPE", 4, 8)]), ("Nothing", [])]
    assert infer_format(path) == "inline_xml"


@pytest.mark.parametrize("body, problem", [
    ('<c>\n<sentence>A <ENAMEX>B</ENAMEX>.</sentence></c>',
     r"line 2: an entity <ENAMEX> without its label attribute 'type'"),
    ('<c>\n<sentence>A <ENAMEX type="X">B</sentence></c>', r"line 2: invalid XML: mismatched tag"),
    ('<c>\n<p><ENAMEX type="X">B</ENAMEX></p></c>', r"line 2: an entity <ENAMEX> outside a <sentence> element"),
    ('<?xml version="1.0"?>\n<!DOCTYPE c [<!ENTITY a "aaaa">]>\n<c><sentence>&a;</sentence></c>',
     r"line 2: a DOCTYPE declaration: DTDs and their entities are not read"),
    ('<c>\n<sentence>A&nbsp;B</sentence></c>', r"line 2: invalid XML: undefined entity"),
    ('<c><p>no sentences</p></c>', r"no <sentence> elements"),
])
def test_inline_xml_bad_input_is_an_error_naming_the_line(tmp_path, nlp, body, problem):
    path = write(tmp_path / "bad.xml", body)
    with pytest.raises(CorpusFormatError, match="bad.xml(, |: )" + problem):
        read_inline_xml(path, nlp)


# --- all five ---------------------------------------------------------------------------

def test_every_new_format_is_read_through_read_docs_and_its_registered_corpus(tmp_path, nlp):
    files = {
        "brat": brat_pair(tmp_path),
        "pubtator": write(tmp_path / "p.PubTator", PUBTATOR),
        "dygie": write(tmp_path / "d.json", json.dumps(DYGIE) + "\n"),
        "hipe": write(tmp_path / "h.tsv", HIPE),
        "inline_xml": write(tmp_path / "x.xml", XML),
    }
    readers = {"brat": "BratCorpus", "pubtator": "PubtatorCorpus", "dygie": "DygieCorpus", "hipe": "HipeCorpus",
               "inline_xml": "InlineXmlCorpus"}
    expected = {"brat": 2, "pubtator": 2, "dygie": 2, "hipe": 3, "inline_xml": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        for format, path in files.items():
            assert format in FORMATS
            assert infer_format(path) == format
            assert len(read_docs(path, nlp, format)) == expected[format]
            corpus = registry.readers.get(f"spacy_ner_ext.{readers[format]}.v1")(path=path, limit=1)
            (example,) = list(corpus(nlp))
            assert [e.text for e in example.reference.ents] == [e.text for e in read_docs(path, nlp, format)[0].ents]


def test_convert_reads_a_folder_of_brat_pairs(tmp_path):
    """The command line takes a BRAT corpus as the folder it is, its format inferred."""
    from spacy.tokens import DocBin
    from typer.testing import CliRunner

    from spacy_ner_ext.cli import app

    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "a.txt").write_text("Mary met John in Paris.\n")
    (folder / "a.ann").write_text("T1\tPER 0 4\tMary\nT2\tPER 9 13\tJohn\nT3\tLOC 17 22\tParis\n")
    out = tmp_path / "out.spacy"
    result = CliRunner().invoke(app, ["convert", str(folder), str(out)])
    assert result.exit_code == 0, result.output
    docs = list(DocBin().from_disk(out).get_docs(spacy.blank("en").vocab))
    assert [(e.text, e.label_) for d in docs for e in d.ents] == [("Mary", "PER"), ("John", "PER"), ("Paris", "LOC")]
