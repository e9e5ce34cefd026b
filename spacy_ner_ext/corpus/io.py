"""Reading text files with errors that name the file and line, and the one rule of where
their lines end."""
from pathlib import Path
from typing import Any, List, Optional, Union

from .errors import CorpusFormatError


def read_text(path: Union[str, Path]) -> str:
    path = Path(path)
    if not path.exists():
        raise CorpusFormatError(path, None, "no such file")
    if path.is_dir():
        raise CorpusFormatError(path, None, "a folder, not a file")
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4096]:
        raise CorpusFormatError(path, None, "not UTF-8 text: it looks like UTF-16 or a binary file (NUL bytes); "
                                "save it as UTF-8")
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


def read_json_file(path: Union[str, Path]) -> Any:
    """A JSON file's value; invalid JSON is a CorpusFormatError naming the file and line."""
    import json

    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise CorpusFormatError(path, err.lineno, f"invalid JSON: {err.msg}") from None


def text_lines(text: str) -> List[str]:
    """The lines of a corpus file: they end at "\n" (with an optional "\r" before it) and
    nowhere else. str.splitlines would also end a line at a "\r" alone or a Unicode line
    separator (U+2028, U+0085, ...), which JSON strings and tokens may hold."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def lone_surrogate(text: str) -> Optional[str]:
    """Where a str that JSON allowed ("\\ud800") holds a code point that no UTF-8 text can: such
    a string breaks the tokenizer and every writer, so it is bad input, not text."""
    try:
        text.encode("utf8")
    except UnicodeEncodeError as err:
        return f"a lone surrogate U+{ord(text[err.start]):04X} at character {err.start}"
    return None


def lone_surrogate_in(value: Any) -> Optional[str]:
    """The first lone surrogate anywhere in a JSON value (keys and strings), or None."""
    if isinstance(value, str):
        return lone_surrogate(value)
    if isinstance(value, dict):
        value = [v for pair in value.items() for v in pair]
    if isinstance(value, list):
        for item in value:
            found = lone_surrogate_in(item)
            if found:
                return found
    return None
