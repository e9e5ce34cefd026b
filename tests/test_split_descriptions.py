import json
from pathlib import Path

import pytest

from spacy_ner_ext.corpus import CorpusFormatError, load_descriptions, train_dev_split

DESCRIPTIONS = Path(__file__).parent.parent / "corpus" / "descriptions"
LABELS = {
    "conll2003": {"PER", "ORG", "LOC", "MISC"},
    "wikiann": {"PER", "ORG", "LOC"},
    "bc5cdr": {"Chemical", "Disease"},
    "ncbi-disease": {"Disease"},
    "mit-restaurant": {"Location", "Cuisine", "Amenity", "Restaurant_Name", "Dish", "Rating", "Hours", "Price"},
}


def test_split_is_seeded_and_complete():
    items = list(range(100))
    train, dev = train_dev_split(items, 0.1, seed=3)
    assert len(dev) == 10 and sorted(train + dev) == items
    assert train_dev_split(items, 0.1, seed=3) == (train, dev)
    assert train_dev_split(items, 0.1, seed=4)[1] != dev
    with pytest.raises(ValueError, match="dev_ratio"):
        train_dev_split(items, 1.5)


@pytest.mark.parametrize("dataset", sorted(LABELS))
def test_shipped_descriptions_cover_the_labels(dataset):
    descriptions = load_descriptions(DESCRIPTIONS / f"{dataset}.json", labels=LABELS[dataset])
    assert set(descriptions) == LABELS[dataset]
    assert all(len(text.split()) >= 5 for text in descriptions.values())


def test_bad_descriptions(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"PER": "people", "LOC": ""}))
    with pytest.raises(CorpusFormatError, match=r"d.json, label 'LOC': the description must be a non-empty string"):
        load_descriptions(path)
    path.write_text(json.dumps({"PER": "people"}))
    with pytest.raises(CorpusFormatError, match="no description for label"):
        load_descriptions(path, labels=["PER", "ORG"])
