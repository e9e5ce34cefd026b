"""Build corpus/descriptions/pile-ner-slimer.json from SLIMER's GPT-written type definitions.

Pile-NER (as kept by SLIMER) has 391 entity types. Two files of the mirror's `pile-ner-slimer/`
folder define each of them in words:

- andrewzamai_top391NEs_definitions.json: {type: {"gpt_answer": '{"Definition": ..., "Guidelines": ...}'}}
- msenatus_pileNER_391_hierarchical_guidelines.json: {type: {"definition": ...}}

Each type gets both definitions as paraphrases, cleaned: quotes around the type name are
stripped, phrases like "in the context of NER" are dropped, text is made plain ASCII and kept
under MAX_WORDS words. Keys are the `tagName` values of the passages (the type names). A
`tagName` that occurs in the passages but in neither file (SLIMER's passages ask about
`instrument`) is taken from andrewzamai_all_423_NE_definitions.json, with a second paraphrase
built from that file's example entities.

    python scripts/pile_ner_descriptions.py [--mirror ../shared/data] [--output corpus/descriptions/pile-ner-slimer.json]
"""
import json
import re
import unicodedata
from pathlib import Path
from typing import Dict, List, Optional

import typer

from spacy_ner_ext.corpus.datasets import find_mirror

FOLDER = "pile-ner-slimer"
TOP391 = "andrewzamai_top391NEs_definitions.json"
ALL423 = "andrewzamai_all_423_NE_definitions.json"
HIERARCHICAL = "msenatus_pileNER_391_hierarchical_guidelines.json"
PASSAGES = ("andrewzamai_validation_TrueDef.jsonl", "andrewzamai_validation_FalseDef.jsonl")
MAX_WORDS = 60
# Type names that are codes rather than words: written differently inside the text.
NAME_IN_TEXT = {"norp": "this type"}

ASCII = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u00d7": "x", "\u2192": "->",
}
NER_PHRASES = re.compile(
    r",?\s*\b(?:with)?in (?:the )?(?:context of |domain of )?(?:an? )?"
    r"(?:NER|named[- ]entity recognition|named entities recognition)(?: context| task| tasks)?\b,?",
    re.IGNORECASE,
)

app = typer.Typer(add_completion=False)


def to_ascii(text: str) -> str:
    for bad, good in ASCII.items():
        text = text.replace(bad, good)
    text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore").decode("ascii")


def clean(text: str, type_name: str) -> str:
    """One definition as a plain sentence: no quoted type name, no NER jargon, ASCII, short."""
    text = to_ascii(text).strip()
    name = re.escape(type_name)
    # 'person' / "person" / `person` -> person (also inside the text and before 's)
    text = re.sub(r"""(['"`])(%s)\1""" % name, r"\2", text, flags=re.IGNORECASE)
    text = NER_PHRASES.sub("", text)
    if type_name in NAME_IN_TEXT:
        text = re.sub(r"\b%s\b" % name, NAME_IN_TEXT[type_name], text, flags=re.IGNORECASE)
    text = re.sub(r"\s+", " ", text).strip(" ,;")
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    words = text.split()
    if len(words) > MAX_WORDS:
        kept: List[str] = []
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if len(" ".join(kept + [sentence]).split()) > MAX_WORDS:
                break
            kept.append(sentence)
        text = " ".join(kept) if kept else " ".join(words[:MAX_WORDS]).rstrip(",;:") + "."
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    return text


def gpt_definition(entry: dict) -> Optional[str]:
    """The "Definition" of a SLIMER gpt_answer; a few answers were cut off, so fall back to a regex."""
    answer = entry.get("gpt_answer") or ""
    try:
        return json.loads(answer)["Definition"]
    except (ValueError, KeyError, TypeError):
        match = re.search(r'"Definition"\s*:\s*"((?:[^"\\]|\\.)*)"', answer)
        return json.loads('"%s"' % match.group(1)) if match else None


def example_paraphrase(entry: dict, type_name: str) -> Optional[str]:
    """A paraphrase from the example entities of a definitions entry, for types with one definition."""
    seen: List[str] = []
    for example in entry.get("sentences_as_example", []):
        for entity in example.get("entities", []):
            entity = to_ascii(entity).strip()
            if entity and entity.lower() not in {s.lower() for s in seen}:
                seen.append(entity)
    if not seen:
        return None
    listed = seen[0] if len(seen) == 1 else ", ".join(seen[:-1][:3]) + " or " + seen[-1]
    article = "an" if type_name[:1].lower() in "aeiou" else "a"
    return f"Mentions of {article} {type_name} in running text, for example {listed}."


def tag_names(folder: Path) -> List[str]:
    names = set()
    for filename in PASSAGES:
        path = folder / filename
        if path.exists():
            with path.open(encoding="utf-8") as f:
                names.update(json.loads(line)["tagName"] for line in f if line.strip())
    return sorted(names)


def build(folder: Path) -> Dict[str, List[str]]:
    top = json.loads((folder / TOP391).read_text(encoding="utf-8"))
    hierarchical = json.loads((folder / HIERARCHICAL).read_text(encoding="utf-8"))
    every = json.loads((folder / ALL423).read_text(encoding="utf-8")) if (folder / ALL423).exists() else {}
    descriptions: Dict[str, List[str]] = {}
    for name in sorted(set(top) | set(hierarchical) | set(tag_names(folder))):
        paraphrases: List[str] = []
        first = gpt_definition(top[name]) if name in top else None
        if first is None and name in every:
            first = gpt_definition(every[name])
        second = hierarchical.get(name, {}).get("definition")
        for text in (first, second):
            if text:
                text = clean(text, name)
                if text and text not in paraphrases:
                    paraphrases.append(text)
        if len(paraphrases) < 2:
            extra = example_paraphrase(top.get(name) or every.get(name) or {}, name)
            if extra:
                paraphrases.append(extra)
        if not paraphrases:
            raise ValueError(f"no definition for pile-ner-slimer type {name!r}")
        descriptions[name] = paraphrases
    return descriptions


@app.command()
def main(
    mirror: Optional[Path] = typer.Option(None, help="Folder holding pile-ner-slimer/ (default: $SPACY_NER_EXT_DATA or ../shared/data)"),
    output: Path = typer.Option(Path("corpus/descriptions/pile-ner-slimer.json"), help="Descriptions file to write"),
):
    root = find_mirror(mirror)
    if root is None or not (root / FOLDER).is_dir():
        typer.echo(f"no {FOLDER}/ folder in the mirror ({root}); pass --mirror", err=True)
        raise typer.Exit(1)
    descriptions = build(root / FOLDER)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as f:
        json.dump(descriptions, f, indent=2, ensure_ascii=True)
        f.write("\n")
    typer.echo(f"{output}: {len(descriptions)} types")


if __name__ == "__main__":
    app()
