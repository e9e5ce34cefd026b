"""Inline XML: entity elements around the text they name, inside sentence elements, as in
grobid-ner:

    <sentence xml:id="P0E1">In <ENAMEX type="PERIOD">1831</ENAMEX>, ...</sentence>

One Doc per `sentence_tag` element, its text all the text inside it (of other elements too),
with the whitespace at its two ends left out; each `entity_tag` element inside it is an
entity labelled by its `label_attribute`. Entity elements may nest, so overlaps keep the
longest in `doc.ents` by default (all stay in `doc.spans["sc"]`). An entity element outside
a sentence, or without its label, is an error naming the line. `doc.user_data["id"]` is the
sentence's `xml:id` (or `id`) where it has one.

Parsed with the standard library's expat, with no DTDs: a file with a DOCTYPE or an entity
declaration is refused, so no entity is ever expanded and nothing is fetched.
"""
from pathlib import Path
from typing import List, Optional, Union
from xml.parsers import expat

from spacy.language import Language
from spacy.tokens import Doc

from .brat import check_alignment_mode, place_char_spans
from .errors import CorpusFormatError, RepairLog
from .io import read_text
from .spans import set_entities, take_docs
from ..errors import UserInputError


class _Sentence:
    def __init__(self, line: int, ident: Optional[str]):
        self.line, self.ident = line, ident
        self.parts: List[str] = []
        self.length = 0
        self.open: List[tuple] = []  # (label, start, line) of the entity elements open now
        self.entities: List[tuple] = []  # (start, end, label, line)


def parse_inline_xml(
    path: Union[str, Path], entity_tag: str, label_attribute: str, sentence_tag: str
) -> List[_Sentence]:
    """The sentence elements of an inline XML file, with their text and entity offsets."""
    text = read_text(path)
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    sentences: List[_Sentence] = []
    current: List[Optional[_Sentence]] = [None]

    def refuse(problem: str):
        raise CorpusFormatError(path, parser.CurrentLineNumber, problem)

    def doctype(*_):
        refuse("a DOCTYPE declaration: DTDs and their entities are not read (remove it)")

    def entity_decl(*_):
        refuse("an entity declaration: XML entities are not expanded (remove it)")

    def start(name, attrs):
        sentence = current[0]
        if name == sentence_tag:
            if sentence is not None:
                refuse(f"a <{sentence_tag}> inside the <{sentence_tag}> of line {sentence.line}")
            current[0] = _Sentence(parser.CurrentLineNumber, attrs.get("xml:id", attrs.get("id")))
        elif name == entity_tag:
            if sentence is None:
                refuse(f"an entity <{entity_tag}> outside a <{sentence_tag}> element (sentence_tag names the "
                       "element of one example)")
            label = attrs.get(label_attribute)
            if not label or not label.strip():
                refuse(f"an entity <{entity_tag}> without its label attribute {label_attribute!r}"
                       + (f" (its attributes: {', '.join(attrs)})" if attrs else ""))
            sentence.open.append((label, sentence.length, parser.CurrentLineNumber))

    def end(name):
        sentence = current[0]
        if sentence is None:
            return
        if name == entity_tag:
            label, begin, line = sentence.open.pop()
            sentence.entities.append((begin, sentence.length, label, line))
        elif name == sentence_tag:
            sentences.append(sentence)
            current[0] = None

    def data(chunk):
        sentence = current[0]
        if sentence is not None:
            sentence.parts.append(chunk)
            sentence.length += len(chunk)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity_decl
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(text, True)
    except expat.ExpatError as err:
        raise CorpusFormatError(path, err.lineno, f"invalid XML: {expat.ErrorString(err.code)} at column "
                                f"{err.offset + 1}") from None
    if not sentences:
        raise CorpusFormatError(path, None, f"no <{sentence_tag}> elements: sentence_tag names the element of one "
                                "example")
    return sentences


def read_inline_xml(
    path: Union[str, Path],
    nlp: Language,
    entity_tag: str = "ENAMEX",
    label_attribute: str = "type",
    sentence_tag: str = "sentence",
    on_overlap: str = "keep_longest",
    alignment_mode: str = "expand",
    limit: int = 0,
) -> List[Doc]:
    for name, value in (("entity_tag", entity_tag), ("label_attribute", label_attribute),
                        ("sentence_tag", sentence_tag)):
        if not isinstance(value, str) or not value.strip():
            raise UserInputError(f"{name} must be a non-empty string, not {value!r}")
    if entity_tag == sentence_tag:
        raise UserInputError(f"entity_tag and sentence_tag must name different elements, not both {entity_tag!r}")
    check_alignment_mode(alignment_mode)
    repairs = RepairLog(path)
    source = str(path)

    def parse():
        for sentence in parse_inline_xml(path, entity_tag, label_attribute, sentence_tag):
            text = "".join(sentence.parts)
            stripped = text.strip()
            if not stripped:
                continue
            lead = len(text) - len(text.lstrip())
            items = []
            for start, end, label, line in sentence.entities:
                start, end = max(start - lead, 0), min(end - lead, len(stripped))
                if start >= end:
                    repairs.add("entities of whitespace alone (or empty): dropped", f"line {line}")
                    continue
                items.append((start, end, label, f"line {line}"))
            doc = nlp.make_doc(stripped)
            spans = place_char_spans(doc, items, source, alignment_mode, repairs)
            if sentence.ident is not None:
                doc.user_data["id"] = sentence.ident
            yield set_entities(doc, spans, source, f"line {sentence.line}", on_overlap, repairs)

    return take_docs(path, parse(), limit, repairs)
