"""Corpus labels -> universal types, and each universal type's descriptions.

`corpus/descriptions/type_mapping.json` is the one reviewed decision of which corpus labels are
the same type: `{dataset: {label: universal type}, "_why": {universal type: reason}}`.
Universal type names are readable English (a model is shown them as the type's name).
`corpus/descriptions/<dataset>.json` describes each label of a dataset (one description or a
list of paraphrases); a universal type gathers the descriptions of every label mapped to it.
"""
import json
from pathlib import Path
from typing import Dict, Iterable, List

from ..corpus.descriptions import load_description_variants
from ..corpus.errors import CorpusFormatError
from ..corpus.io import read_text


def load_mapping(path: Path) -> Dict[str, Dict[str, str]]:
    """{dataset: {label: universal type}} (the "_why" notes left out)."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise CorpusFormatError(path, err.lineno, f"invalid JSON: {err.msg}") from None
    if not isinstance(data, dict):
        raise CorpusFormatError(path, None, "expected {dataset: {label: universal type}}")
    mapping = {}
    for dataset, labels in data.items():
        if dataset.startswith("_"):
            continue
        if not isinstance(labels, dict) or not all(isinstance(v, str) and v.strip() for v in labels.values()):
            raise CorpusFormatError(path, f"dataset {dataset!r}", "expected {label: universal type name}")
        mapping[dataset] = {label: name.strip() for label, name in labels.items()}
    return mapping


def check_mapped(mapping: Dict[str, Dict[str, str]], dataset: str, labels: Iterable[str], path: Path) -> Dict[str, str]:
    """The dataset's labels, each mapped: a label the mapping does not decide is an error (it
    would otherwise become a type of its own by accident)."""
    known = mapping.get(dataset, {})
    missing = sorted(set(labels) - set(known))
    if missing:
        raise CorpusFormatError(path, f"dataset {dataset!r}", f"no universal type for label(s) {', '.join(missing)}")
    return known


def universal_descriptions(mapping: Dict[str, Dict[str, str]], datasets: List[str],
                           descriptions_dir: Path) -> Dict[str, List[str]]:
    """{universal type: descriptions}, gathered in the order of `datasets` (the first one is
    the type's description at prediction); each dataset's file must describe every label
    the mapping gives it."""
    gathered: Dict[str, List[str]] = {}
    for dataset in datasets:
        path = descriptions_dir / f"{dataset}.json"
        variants = load_description_variants(path)
        for label, universal in mapping.get(dataset, {}).items():
            if label not in variants:
                raise CorpusFormatError(path, None, f"no description for label {label!r}")
            texts = gathered.setdefault(universal, [])
            texts.extend(t for t in variants[label] if t not in texts)
    return gathered
