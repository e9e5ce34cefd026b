"""The input of `benchmark-annotate`: real sentences as JSONL shards, 10,000 records each.

WikiANN English (train, test, dev: 40,000 sentences) and then CoNLL-2003 train, from the local
mirror of the corpora (../shared/data or $SPACY_NER_EXT_DATA), detokenized by joining words with
spaces; ids name the corpus, split and sentence.

    python scripts/annotate_benchmark_input.py corpus/annotate_bench --records 50000
"""
import json
from pathlib import Path

import typer

from spacy_ner_ext.corpus.conll import read_conll_sentences
from spacy_ner_ext.corpus.datasets import DATASETS, find_mirror
from spacy_ner_ext.errors import UserInputError

SOURCES = [("wikiann", "train"), ("wikiann", "test"), ("wikiann", "dev"), ("conll2003", "train")]
PER_SHARD = 10_000


def sentences(mirror: Path):
    for name, split in SOURCES:
        dataset = DATASETS[name]
        options = {k: v for k, v in dataset.options.items() if k != "scheme"}
        number = 0
        for document in read_conll_sentences(mirror / dataset.folder / dataset.splits[split], **options):
            for sentence in document:
                number += 1
                yield f"{name}/{split}:{number}", " ".join(sentence.words)


def main(output: Path = typer.Argument(..., file_okay=False), records: int = typer.Option(50_000, min=1),
         data: Path = typer.Option(None, file_okay=False, help="The corpora's folder (default: ../shared/data)")):
    mirror = find_mirror(data)
    if mirror is None:
        raise UserInputError("no corpora folder: give --data or set SPACY_NER_EXT_DATA")
    output.mkdir(parents=True, exist_ok=True)
    written, shard, handle = 0, -1, None
    for record_id, text in sentences(mirror):
        if written == records:
            break
        if written % PER_SHARD == 0:
            if handle:
                handle.close()
            shard += 1
            handle = (output / f"part-{shard:03d}.jsonl").open("w", encoding="utf8")
        handle.write(json.dumps({"id": record_id, "text": text}, ensure_ascii=False) + "\n")
        written += 1
    if handle:
        handle.close()
    if written < records:
        raise UserInputError(f"only {written} sentences in {', '.join(f'{n} {s}' for n, s in SOURCES)}")
    print(f"{written} records in {shard + 1} shards in {output}")


if __name__ == "__main__":
    typer.run(main)
