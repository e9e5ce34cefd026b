"""Label descriptions: JSON files mapping each entity type to a natural-language description."""
import json
from pathlib import Path
from typing import Dict, Iterable, Optional, Union

from .errors import CorpusFormatError
from .io import read_text


def load_descriptions(path: Union[str, Path], labels: Optional[Iterable[str]] = None) -> Dict[str, str]:
    """Read `{label: description}`; with `labels`, every one of them must be described."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise CorpusFormatError(path, err.lineno, f"invalid JSON: {err.msg}") from None
    if not isinstance(data, dict) or not data:
        raise CorpusFormatError(path, None, "expected a non-empty JSON object {label: description}")
    for label, text in data.items():
        if not isinstance(text, str) or not text.strip():
            raise CorpusFormatError(path, f"label {label!r}", "the description must be a non-empty string")
    if labels is not None:
        missing = sorted(set(labels) - set(data))
        if missing:
            raise CorpusFormatError(path, None, f"no description for label(s) {', '.join(missing)}")
    return {label: text.strip() for label, text in data.items()}
