"""Peak memory of one `nlp.pipe` batch that mixes short docs with one very long doc.

Each (pipeline, long-doc length) runs in a fresh process, so that each peak is that pipeline's own.
The batch: the first 63 docs of DATA (CoNLL-2003 test: about 100 words each) and one doc made by
joining DATA's docs until it has LONG words, in one `nlp.pipe(batch_size=64)` call.

A pipeline can be given as NAME=PATH or NAME=PATH@CODE, where CODE is a checkout of this project
whose `spacy_ner_ext` is imported instead of the installed one (to measure an older commit). Such
a pipeline is loaded from a copy of its config without the settings the older code does not know.

    python scripts/benchmark_long_docs.py corpus/conll2003/test.spacy \\
        baseline=training/baseline/model-best span_ner=training/span/model-best \\
        --long-words 5000 --long-words 20000 --output results/long_docs.json
"""
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

import typer

# Factory settings added after the older code: dropped from the config its copy is loaded with.
NEW_SETTINGS = ("thresholds", "calibration_temperature", "max_batch_tokens")


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(model: str, data: str, short_docs: int, long_words: int) -> dict:
    import spacy
    import spacy_ner_ext
    from spacy.tokens import Doc, DocBin

    nlp = spacy.load(model)
    refs = list(DocBin().from_disk(data).get_docs(nlp.vocab))
    as_words = [([t.text for t in ref], [bool(t.whitespace_) for t in ref]) for ref in refs]
    docs = [Doc(nlp.vocab, words=w, spaces=s) for w, s in as_words[:short_docs]]
    words, spaces = [], []
    while len(words) < long_words:
        for w, s in as_words:
            words += w
            spaces += s[:-1] + [True]
            if len(words) >= long_words:
                break
    docs.append(Doc(nlp.vocab, words=words[:long_words], spaces=spaces[:long_words]))
    loaded_mb = _rss_mb()
    started = time.perf_counter()
    annotated = list(nlp.pipe(docs, batch_size=len(docs)))
    seconds = time.perf_counter() - started
    return {
        "code": str(Path(spacy_ner_ext.__file__).parent.parent), "short_docs": short_docs,
        "short_words": sum(len(d) for d in docs[:-1]), "long_words": long_words,
        "entities": sum(len(d.ents) for d in annotated), "seconds": round(seconds, 2),
        "rss_after_load_mb": round(loaded_mb, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _copy_for_older_code(model: Path, folder: Path) -> Path:
    copy = folder / model.name
    shutil.copytree(model, copy)
    config = (copy / "config.cfg").read_text()
    # Drop the new settings and a [components.X.thresholds] block with its lines.
    config = re.sub(r"\n\[components\.[^\]]+\.thresholds\]\n(?:[^\[\n][^\n]*\n)*", "\n", config)
    config = re.sub(rf"^(?:{'|'.join(NEW_SETTINGS)}) = .*\n", "", config, flags=re.M)
    (copy / "config.cfg").write_text(config)
    return copy


def main(
    data: Path = typer.Argument(..., exists=True, help="Docs to take the batch from (.spacy)"),
    models: List[str] = typer.Argument(..., help="NAME=PATH or NAME=PATH@CODE"),
    long_words: List[int] = typer.Option([5000], help="Length of the long doc (repeat for several)"),
    short_docs: int = typer.Option(63, help="Short docs in the batch beside the long one"),
    output: Path = typer.Option(Path("results/long_docs.json"), help="JSON results"),
):
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in models:
            name, _, where = spec.partition("=")
            path, _, code = where.partition("@")
            env = dict(os.environ)
            if code:
                path = str(_copy_for_older_code(Path(path), Path(tmp) / name))
                env["PYTHONPATH"] = os.pathsep.join([str(Path(code).resolve()), env.get("PYTHONPATH", "")])
            for n in long_words:
                args = json.dumps([path, str(data), short_docs, n])
                run = subprocess.run([sys.executable, __file__, "--worker", args], env=env,
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    result = {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else
                              f"exit status {run.returncode}"}
                else:
                    result = json.loads(run.stdout.strip().splitlines()[-1])
                result.update(name=name, model=path if not code else where, returncode=run.returncode)
                results.append(result)
                typer.echo(json.dumps(result))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"results": results}, indent=2) + "\n")
    typer.echo(f"Wrote {output}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(*json.loads(sys.argv[2]))))
    else:
        typer.run(main)
