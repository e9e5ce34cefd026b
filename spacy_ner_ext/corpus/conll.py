"""CoNLL-style column files: one token per line, blank lines between sentences."""
import re
from pathlib import Path
from typing import Iterator, List, Optional, Union

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..errors import UserInputError
from .errors import CorpusFormatError, RepairLog
from .io import read_text, text_lines
from .tags import spans_to_iob2, tags_to_spans

DOCSTART = "-DOCSTART-"


class Sentence:
    __slots__ = ("words", "tags", "lines")

    def __init__(self):
        self.words: List[str] = []
        self.tags: List[str] = []
        self.lines: List[int] = []


# Columns are separated by ASCII spaces and tabs only: a non-breaking space (or any other
# Unicode space) is part of its token, as in "New\xa0York".
ASCII_BLANKS = " \t\r\n\x0b\x0c"
_COLUMNS = re.compile(r"[ \t\x0b\x0c]+")


def split_columns(line: str, separator: Optional[str]) -> List[str]:
    return _COLUMNS.split(line) if separator is None else [field.strip(ASCII_BLANKS) for field in line.split(separator)]


def read_conll_sentences(
    path: Union[str, Path],
    tag_column: int = -1,
    token_column: Optional[int] = None,
    token_prefix: str = "",
    separator: Optional[str] = None,
) -> Iterator[List[Sentence]]:
    """Yield documents (split at -DOCSTART- lines) as lists of sentences. Every token line must
    have as many columns as the file's first one: a line with one column fewer or more would
    read its tag from another column."""
    if token_column is None:
        token_column = -1 if tag_column == 0 else 0
    text = read_text(path)
    document: List[Sentence] = []
    sentence = Sentence()
    needed = max(tag_column if tag_column >= 0 else -tag_column - 1,
                 token_column if token_column >= 0 else -token_column - 1) + 1
    columns, first_line = None, None
    for lineno, raw in enumerate(text_lines(text), start=1):
        line = raw.strip(ASCII_BLANKS)
        if not line:
            if sentence.words:
                document.append(sentence)
                sentence = Sentence()
            continue
        fields = split_columns(line, separator)
        if fields[0] == DOCSTART or fields[-1] == DOCSTART:
            if sentence.words:
                document.append(sentence)
                sentence = Sentence()
            if document:
                yield document
            document = []
            continue
        if len(fields) < max(needed, 2):
            raise CorpusFormatError(
                path, lineno,
                f"expected at least {max(needed, 2)} columns (token and tag), found {len(fields)}: {raw!r}",
            )
        if columns is None:
            columns, first_line = len(fields), lineno
        elif len(fields) != columns:
            raise CorpusFormatError(
                path, lineno,
                f"{len(fields)} columns where line {first_line} has {columns}: {raw!r}",
            )
        word = fields[token_column]
        if token_prefix and word.startswith(token_prefix):
            word = word[len(token_prefix):]
        if not word:
            raise CorpusFormatError(path, lineno, f"empty token after removing the prefix {token_prefix!r}")
        sentence.words.append(word)
        sentence.tags.append(fields[tag_column])
        sentence.lines.append(lineno)
    if sentence.words:
        document.append(sentence)
    if document:
        yield document


def read_conll(
    path: Union[str, Path],
    vocab: Optional[Vocab] = None,
    scheme: str = "iob2",
    tag_column: int = -1,
    token_column: Optional[int] = None,
    token_prefix: str = "",
    n_sents: int = 1,
    separator: Optional[str] = None,
    limit: int = 0,
) -> List[Doc]:
    """Docs with `doc.ents` and sentence starts; `n_sents` sentences per Doc, never across
    a -DOCSTART- boundary. `limit` caps the number of sentences read (0: all)."""
    if isinstance(n_sents, bool) or not isinstance(n_sents, int) or n_sents < 1:
        raise UserInputError(f"n_sents must be a whole number of at least 1, not {n_sents!r}")
    if separator is not None and (not isinstance(separator, str) or not separator):
        raise UserInputError(f"separator must be a non-empty string (None: spaces and tabs), not {separator!r}")
    vocab = vocab if vocab is not None else Vocab()
    repairs = RepairLog(path)
    docs: List[Doc] = []
    n_read = 0
    for document in read_conll_sentences(path, tag_column, token_column, token_prefix, separator):
        if limit:
            document = document[: limit - n_read]
        for i in range(0, len(document), n_sents):
            docs.append(_make_doc(vocab, document[i : i + n_sents], scheme, str(path), repairs))
        n_read += len(document)
        if limit and n_read >= limit:
            break
    if not docs:
        raise CorpusFormatError(path, None, "no sentences found")
    repairs.warn()
    return docs


def _make_doc(vocab: Vocab, sentences: List[Sentence], scheme: str, source: str, repairs: RepairLog) -> Doc:
    words, sent_starts, ents = [], [], []
    for sentence in sentences:
        offset = len(words)
        spans = tags_to_spans(sentence.tags, scheme, source, sentence.lines, repairs)
        ents.extend((offset + s, offset + e, label) for s, e, label in spans)
        words.extend(sentence.words)
        sent_starts.extend([True] + [False] * (len(sentence.words) - 1))
    # Column files do not say where the spaces were: spaCy then trains on these tokens as given.
    doc = Doc(vocab, words=words, sent_starts=sent_starts)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    return doc


def write_conll(docs, path: Union[str, Path]) -> None:
    """Two columns, TOKEN TAB IOB2-TAG, sentences separated by blank lines. Whitespace tokens
    are left out (a column file has no place for them, and no entity starts or ends on one); a
    token holding a space, a tab or a line break is an error: read back, it would be split."""
    docs = list(docs)
    for i, doc in enumerate(docs):
        for token in doc:
            if not token.is_space and any(c in token.text for c in ASCII_BLANKS):
                raise CorpusFormatError(path, f"doc {i}, token {token.i}",
                                        f"{token.text!r} holds a space, tab or line break: a CoNLL column cannot")
        for ent in doc.ents:
            if any(c in ent.label_ for c in ASCII_BLANKS):
                raise CorpusFormatError(path, f"doc {i}, entity {ent.text!r}",
                                        f"its label {ent.label_!r} holds a space, tab or line break: a CoNLL tag cannot")
    with Path(path).open("w", encoding="utf8") as f:
        for doc in docs:
            tags = spans_to_iob2(len(doc), [(e.start, e.end, e.label_) for e in doc.ents])
            sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
            for sent in sents:
                tokens = [token for token in sent if not token.is_space]
                for token in tokens:
                    f.write(f"{token.text}\t{tags[token.i]}\n")
                if tokens:
                    f.write("\n")
