"""Convert the public corpora to spaCy's .spacy files under corpus/<dataset>/.

Reads the local mirror when there is one (--mirror, $SPACY_NER_EXT_DATA or ../shared/data),
otherwise the files that `spacy project assets` fetched into assets/. Checks the sentence
counts of the full files against the published ones before converting.
"""
from pathlib import Path
from typing import List, Optional

import typer
from spacy.tokens import DocBin
from spacy.vocab import Vocab
from tqdm import tqdm

from spacy_ner_ext.corpus import read_conll, train_dev_split
from spacy_ner_ext.corpus.datasets import DATASETS, find_mirror

app = typer.Typer(add_completion=False)


@app.command()
def main(
    datasets: List[str] = typer.Argument(..., help=f"Any of: {', '.join(DATASETS)}"),
    output: Path = typer.Option(Path("corpus"), help="Folder for <dataset>/<split>.spacy"),
    mirror: Optional[Path] = typer.Option(None, help="Local copy of the corpora"),
    assets: Path = typer.Option(Path("assets"), help="Where `spacy project assets` puts them"),
    n_sents: int = typer.Option(1, help="Sentences per Doc"),
    limit: int = typer.Option(0, help="Sentences to keep per split (0: all)"),
    seed: int = typer.Option(0, help="Seed of the train/dev split where there is no dev file"),
):
    root = find_mirror(mirror)
    vocab = Vocab()
    for name in datasets:
        if name not in DATASETS:
            raise typer.BadParameter(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
        dataset = DATASETS[name]
        folder = root / dataset.folder if root else assets / dataset.folder
        if not folder.is_dir():
            typer.echo(f"{name}: no local mirror and nothing in {folder}; run `spacy project assets` first", err=True)
            raise typer.Exit(1)
        typer.echo(f"{name}: reading {folder}")
        _assemble_split_files(folder)
        splits = {}
        for split, filename in tqdm(dataset.splits.items(), desc=name, unit="split"):
            path = folder / filename
            docs = read_conll(path, vocab, n_sents=n_sents, **dataset.options)
            expected = dataset.sentences.get(split)
            found = sum(1 for doc in docs for _ in doc.sents)
            if expected and found != expected:
                typer.echo(f"{path}: {found} sentences, expected {expected}: the copy is incomplete", err=True)
                raise typer.Exit(1)
            splits[split] = docs
        if "dev" not in splits and dataset.dev_from_train:
            splits["train"], splits["dev"] = train_dev_split(splits["train"], dataset.dev_from_train, seed)
        out_dir = output / name
        out_dir.mkdir(parents=True, exist_ok=True)
        for split, docs in splits.items():
            if limit:
                docs = _first_sentences(docs, limit)
            DocBin(docs=docs, store_user_data=True).to_disk(out_dir / f"{split}.spacy")
            n_ents = sum(len(d.ents) for d in docs)
            typer.echo(f"  {split}: {len(docs)} docs, {sum(len(d) for d in docs)} words, {n_ents} entities")


def _assemble_split_files(folder: Path) -> None:
    """MIT Restaurant's public copy cuts the original test file in two (test + valid);
    joined in order they are the original 1521-sentence test set."""
    parts = folder / "carpentries_split"
    target = folder / "restauranttest.bio"
    if not target.exists() and (parts / "restauranttest.bio").exists():
        text = (parts / "restauranttest.bio").read_text(encoding="utf8").rstrip("\n") + "\n\n"
        target.write_text(text + (parts / "restaurantvalid.bio").read_text(encoding="utf8"), encoding="utf8")


def _first_sentences(docs, limit):
    kept, n = [], 0
    for doc in docs:
        if n >= limit:
            break
        kept.append(doc)
        n += sum(1 for _ in doc.sents)
    return kept


if __name__ == "__main__":
    app()
