"""Pile-NER (passage, type) questions as kept by SLIMER: one JSON object a line with the
passage ("input"), the type ("tagName") and the entity strings found for it ("output", a JSON
list in a string, no offsets). Each question becomes a Doc that annotates its one type only;
the strings are placed in the passage as the raw-text reader places them (exact, then fuzzy)."""
import json
import warnings
from pathlib import Path
from typing import List

from spacy.language import Language
from spacy.tokens import Doc

from ..corpus.annotated_types import mark_incomplete, set_annotated_types
from ..corpus.errors import CorpusFormatError, CorpusWarning, RepairLog
from ..corpus.jsonl import iter_jsonl
from ..corpus.raw import MatchReport, match_mentions
from ..corpus.spans import set_entities


def read_pile_ner_questions(path: Path, nlp: Language, fuzzy_threshold: float = 90.0) -> List[Doc]:
    repairs = RepairLog(path)
    report = MatchReport()
    docs, seen = [], set()
    for lineno, obj in iter_jsonl(path):
        where = f"line {lineno}"
        passage, label, output = obj.get("input"), obj.get("tagName"), obj.get("output")
        if not isinstance(passage, str) or not isinstance(label, str) or not label:
            raise CorpusFormatError(path, where, "expected a string 'input' and a non-empty 'tagName'")
        key = obj.get("doc_question_pairID", (passage, label))
        if key in seen:
            continue
        seen.add(key)
        try:
            strings = json.loads(output) if isinstance(output, str) else output
        except json.JSONDecodeError as err:
            raise CorpusFormatError(path, where, f"'output' is not a JSON list ({err.msg})") from None
        if not isinstance(strings, list) or not all(isinstance(x, str) for x in strings):
            raise CorpusFormatError(path, where, "'output' must be a list of entity strings")
        doc = nlp.make_doc(passage)
        mentions = [(text.strip(), label) for text in dict.fromkeys(strings) if text.strip()]
        missed = len(report.unmatched)
        spans = match_mentions(doc, mentions, str(key), fuzzy_threshold, report)
        doc = set_entities(doc, spans, str(path), where, "keep_longest", repairs)
        set_annotated_types(doc, [label])
        if len(report.unmatched) > missed:
            # An entity string not found: the question's one type is incompletely annotated.
            mark_incomplete(doc, [label])
        docs.append(doc)
    repairs.warn()
    if report.unmatched:
        warnings.warn(f"{path}: {len(report.unmatched)} of {report.exact + report.fuzzy + len(report.unmatched)} "
                      f"entity strings not found in their passage (first: {report.unmatched[0]!r}); their questions "
                      f"are not counted as annotated for their type",
                      CorpusWarning, stacklevel=2)
    return docs
