"""Label descriptions: JSON files mapping each entity type to a natural-language description."""
import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

from .errors import CorpusFormatError
from .io import lone_surrogate, read_text


def check_descriptions(descriptions: Dict, source: str) -> Dict[str, str]:
    """The one check of entity types and their descriptions, wherever they come from (a JSON
    file, a config, add_label, set_descriptions, a saved pipeline): every label a non-empty
    string, every description a non-empty string; descriptions come back stripped."""
    if not isinstance(descriptions, dict):
        raise CorpusFormatError(source, None, f"expected {{label: description}}, found a {type(descriptions).__name__}")
    checked = {}
    for label, text in descriptions.items():
        if not isinstance(label, str) or not label.strip():
            raise CorpusFormatError(source, None, f"a label must be a non-empty string, not {label!r}")
        if not isinstance(text, str) or not text.strip():
            raise CorpusFormatError(source, f"label {label!r}",
                                    f"the description must be a non-empty string, not {text!r}")
        surrogate = lone_surrogate(label) or lone_surrogate(text)
        if surrogate:
            raise CorpusFormatError(source, f"label {label!r}", f"{surrogate}: not valid Unicode")
        checked[label] = text.strip()
    return checked


def load_description_variants(path: Union[str, Path]) -> Dict[str, List[str]]:
    """Read `{label: description}` or `{label: [description, paraphrase, ...]}`: every label's
    descriptions, the first one first (the one a pipeline uses at prediction)."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise CorpusFormatError(path, err.lineno, f"invalid JSON: {err.msg}") from None
    if not isinstance(data, dict) or not data:
        raise CorpusFormatError(path, None, "expected a non-empty JSON object {label: description}")
    variants = {}
    for label, texts in data.items():
        if isinstance(texts, list):
            if not texts:
                raise CorpusFormatError(path, f"label {label!r}", "an empty list of descriptions")
            checked = [check_descriptions({label: text}, str(path))[label] for text in texts]
        else:
            checked = [check_descriptions({label: texts}, str(path))[label]]
        variants[label] = list(dict.fromkeys(checked))
    return variants


def load_descriptions(path: Union[str, Path], labels: Optional[Iterable[str]] = None) -> Dict[str, str]:
    """Read `{label: description}` (or a list of paraphrases per label: the first is taken);
    with `labels`, every one of them must be described."""
    data = {label: texts[0] for label, texts in load_description_variants(path).items()}
    if labels is not None:
        missing = sorted(set(labels) - set(data))
        if missing:
            raise CorpusFormatError(path, None, f"no description for label(s) {', '.join(missing)}")
    return data
