"""Reading text files with errors that name the file and line."""
from pathlib import Path
from typing import Union

from .errors import CorpusFormatError


def read_text(path: Union[str, Path]) -> str:
    path = Path(path)
    if not path.exists():
        raise CorpusFormatError(path, None, "no such file")
    if path.is_dir():
        raise CorpusFormatError(path, None, "a folder, not a file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CorpusFormatError(
            path, line, f"bytes that are not UTF-8 at byte offset {err.start} ({err.reason})"
        ) from None
    if not text.strip():
        raise CorpusFormatError(path, None, "the file is empty")
    return text
