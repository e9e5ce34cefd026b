"""DyGIE JSON lines (SciERC, and DyGIE++'s other corpora): one document a line,

    {"doc_key": ..., "sentences": [[token, ...], ...], "ner": [[[start, end, label], ...], ...]}

with one `ner` list per sentence and `start`/`end` INCLUSIVE token indices counted over the
whole document, not the sentence. Other fields (relations, clusters, events) are left alone.
One Doc per sentence, built from its tokens (no spaces known, as with JSONL tokens);
`doc.user_data` holds "doc_key" and "id" (`<doc_key>:<sentence index from 0>`). DyGIE
entities may nest, so overlaps keep the longest in `doc.ents` by default (all stay in
`doc.spans["sc"]`). Empty sentences are skipped.
"""
from pathlib import Path
from typing import Iterator, List, Union

from spacy.language import Language
from spacy.tokens import Doc

from .errors import CorpusFormatError, RepairLog
from .jsonl import iter_jsonl
from .spans import make_spans, set_entities, take_docs


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_dygie(
    path: Union[str, Path],
    nlp: Language,
    on_overlap: str = "keep_longest",
    limit: int = 0,
) -> List[Doc]:
    repairs = RepairLog(path)
    source = str(path)

    def parse() -> Iterator[Doc]:
        for lineno, obj in iter_jsonl(path):
            key = obj.get("doc_key", lineno)
            where = f"line {lineno} (doc_key {key!r})"
            sentences, ner = obj.get("sentences"), obj.get("ner")
            if not isinstance(sentences, list) or not all(
                    isinstance(s, list) and all(isinstance(t, str) and t for t in s) for s in sentences):
                raise CorpusFormatError(path, where, "'sentences' must be a list of sentences, each a list of "
                                        "non-empty token strings")
            if not isinstance(ner, list) or len(ner) != len(sentences) or not all(isinstance(n, list) for n in ner):
                found = f"{len(ner)} lists" if isinstance(ner, list) else repr(ner)[:40]
                raise CorpusFormatError(path, where, f"'ner' must be a list of entity lists, one per sentence "
                                        f"({len(sentences)}), not {found}")
            offset = 0
            for i, (words, entities) in enumerate(zip(sentences, ner)):
                n = len(words)
                items = []
                for entity in entities:
                    if not (isinstance(entity, list) and len(entity) >= 3 and _is_int(entity[0])
                            and _is_int(entity[1]) and isinstance(entity[2], str) and entity[2].strip()):
                        raise CorpusFormatError(path, f"{where}, sentence {i}", f"entity {entity!r}: expected "
                                                "[start, end, label] with integer token indices")
                    start, end, label = entity[0], entity[1], entity[2]
                    if not offset <= start <= end < offset + n:
                        raise CorpusFormatError(
                            path, f"{where}, sentence {i}",
                            f"entity {entity!r} is outside its sentence, tokens {offset}-{offset + n - 1} of the "
                            "document (DyGIE counts tokens over the whole document, ends included)")
                    items.append({"start": start - offset, "end": end + 1 - offset, "label": label})
                offset += n
                if not words:
                    continue
                doc = Doc(nlp.vocab, words=words)
                sentence_where = f"{where}, sentence {i}"
                spans = make_spans(doc, items, "tokens", source, sentence_where)
                doc.user_data["doc_key"] = key
                doc.user_data["id"] = f"{key}:{i}"
                yield set_entities(doc, spans, source, sentence_where, on_overlap, repairs)

    return take_docs(path, parse(), limit, repairs)
