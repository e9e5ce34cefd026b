"""The corpora of the mixture: where each one lies in the data mirror, how it is read, its
licence and public source. One `Source` per dataset; `SOURCES` is the registry.

A source's labels are the strings its reader puts on the spans (B-/I- prefixes stripped);
`corpus/descriptions/<name>.json` describes each of them and
`corpus/descriptions/type_mapping.json` maps each to a universal type.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc

from ..corpus.readers import read_docs
from ..corpus.errors import CorpusFormatError
from ..errors import UserInputError


@dataclass(frozen=True)
class Source:
    name: str  # also the stem of corpus/descriptions/<name>.json
    folder: str  # under the data mirror (../shared/data)
    # split ("train", "dev", "test") -> files (glob patterns allowed) inside the folder; a
    # source without a dev or test file simply lacks that split.
    splits: Dict[str, Tuple[str, ...]]
    format: str  # a name in spacy_ner_ext.corpus.readers.FORMATS
    options: Dict = field(default_factory=dict)  # passed to that format's reader
    licence: str = ""
    url: str = ""  # the public repository it comes from (its SOURCE.md)
    domain: str = ""
    # Datasets whose texts this one shares: it is left out whenever any of them is.
    shares_text_with: Tuple[str, ...] = ()
    non_commercial: bool = False


def split_files(source: Source, split: str, mirror: Path) -> List[Path]:
    files: List[Path] = []
    for pattern in source.splits.get(split, ()):
        matched = sorted((mirror / source.folder).glob(pattern))
        if not matched:
            raise UserInputError(f"{mirror / source.folder / pattern}: no such file for the {split} split of "
                                 f"{source.name}: is the data mirror complete?")
        files.extend(matched)
    return files


def read_source(source: Source, split: str, nlp: Language, mirror: Path) -> List[Doc]:
    """Every Doc of one split of a source (empty when the source has no such split)."""
    docs: List[Doc] = []
    for path in split_files(source, split, mirror):
        if source.format == "adapter":
            # A corpus with a layout of its own: its reader lives beside its registration.
            from .registry import ADAPTERS

            try:
                docs.extend(ADAPTERS[source.name](path, nlp, **source.options))
            except UserInputError:
                raise
            except (KeyError, IndexError, TypeError, ValueError) as err:
                # An adapter reads one corpus's layout: a record it does not expect is bad input.
                raise CorpusFormatError(path, None, f"a record of a shape the {source.name} reader does not know "
                                        f"({type(err).__name__}: {err})") from None
        else:
            docs.extend(read_docs(path, nlp, source.format, **source.options))
    return docs


SOURCES: Dict[str, Source] = {}


def register(*sources: Source) -> None:
    for source in sources:
        if source.name in SOURCES:
            raise ValueError(f"two sources named {source.name}")
        SOURCES[source.name] = source
