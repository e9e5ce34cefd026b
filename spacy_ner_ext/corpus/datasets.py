"""The public corpora the project works with: where they come from and how to read them.

The files are never part of this repository. `project.yml` fetches them from the sources
below; a local mirror (a folder laid out like `../shared/data`, or the one named by the
environment variable SPACY_NER_EXT_DATA) is taken instead when present.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

MIRROR_ENV = "SPACY_NER_EXT_DATA"


@dataclass(frozen=True)
class Dataset:
    name: str
    folder: str
    splits: Dict[str, str]  # split -> file name inside the folder
    options: Dict = field(default_factory=dict)  # read_conll options
    sentences: Dict[str, int] = field(default_factory=dict)  # expected counts, to check a mirror
    dev_from_train: float = 0.0  # hold this share of train out as dev when there is no dev file


DATASETS = {
    d.name: d
    for d in [
        Dataset("conll2003", "conll2003", {"train": "train.txt", "dev": "dev.txt", "test": "test.txt"},
                {"scheme": "iob2", "tag_column": -1}, {"train": 14041, "dev": 3250, "test": 3453}),
        Dataset("wikiann", "wikiann_en", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                {"scheme": "iob2", "tag_column": -1, "token_prefix": "en:", "separator": "\t"},
                {"train": 20000, "dev": 10000, "test": 10000}),
        Dataset("bc5cdr", "bc5cdr", {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"},
                {"scheme": "iob2", "tag_column": -1, "separator": "\t"}, {"train": 4560, "dev": 4581, "test": 4797}),
        Dataset("ncbi-disease", "ncbi-disease", {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"},
                {"scheme": "iob2", "tag_column": -1, "separator": "\t"}, {"train": 5424, "dev": 923, "test": 940}),
        Dataset("mit-restaurant", "mit-restaurant", {"train": "restauranttrain.bio", "test": "restauranttest.bio"},
                {"scheme": "iob2", "tag_column": 0, "separator": "\t"}, {"train": 7660, "test": 1521},
                dev_from_train=0.1),
    ]
}


def find_mirror(explicit: Optional[Path] = None) -> Optional[Path]:
    """The first folder that holds the corpora: explicit, $SPACY_NER_EXT_DATA, ../shared/data."""
    candidates = [explicit, os.environ.get(MIRROR_ENV), Path("../shared/data")]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None
