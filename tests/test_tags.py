import pytest

from spacy_ner_ext.corpus import CorpusFormatError, CorpusWarning, tags_to_spans


@pytest.mark.parametrize(
    "scheme,tags,expected",
    [
        ("iob2", ["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
        ("iob2", ["B-PER", "B-PER", "I-PER"], [(0, 1, "PER"), (1, 3, "PER")]),
        ("iob1", ["I-PER", "I-PER", "O", "I-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
        ("iob1", ["I-PER", "B-PER", "I-LOC"], [(0, 1, "PER"), (1, 2, "PER"), (2, 3, "LOC")]),
        ("bioes", ["B-ORG", "I-ORG", "E-ORG", "S-LOC", "O"], [(0, 3, "ORG"), (3, 4, "LOC")]),
        ("biluo", ["U-PER", "B-LOC", "L-LOC"], [(0, 1, "PER"), (1, 3, "LOC")]),
        ("iob2", ["O", "O"], []),
    ],
)
def test_schemes(scheme, tags, expected):
    assert tags_to_spans(tags, scheme, "mem") == expected


def test_invalid_prefix_names_the_line():
    with pytest.raises(CorpusFormatError, match=r"f\.txt, line 12: tag 'S-PER' is not valid in the IOB2"):
        tags_to_spans(["B-PER", "S-PER"], "iob2", "f.txt", lines=[11, 12])


def test_unknown_scheme():
    with pytest.raises(ValueError, match="Unknown tag scheme 'bilou2'"):
        tags_to_spans(["O"], "bilou2", "mem")


def test_inside_without_begin_is_repaired_and_counted():
    from spacy_ner_ext.corpus.errors import RepairLog

    log = RepairLog("mem")
    assert tags_to_spans(["O", "I-PER", "I-PER"], "iob2", "mem", repairs=log) == [(1, 3, "PER")]
    assert sum(log.counts.values()) == 1
    with pytest.warns(CorpusWarning, match="repaired 1 time"):
        log.warn()
