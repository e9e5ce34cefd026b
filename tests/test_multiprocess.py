"""nlp.pipe(n_process=2) as a user runs it: its own process, torch's default threads, and a
parent that has already run torch (the case that used to wait forever in forked workers)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SAVED = Path(__file__).parent / "data" / "pipelines_0.1.0"

SCRIPT = """
import json, sys
import spacy, torch
nlp = spacy.load(sys.argv[1])
texts = ["john smith visited paris and london with mary jones of acme corp yesterday"] * 24
torch.ones(2 ** 22).exp().sum()  # the parent's torch thread pool is up
single = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
multi = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, n_process=2, batch_size=4)]
print(json.dumps({"threads": torch.get_num_threads(), "same": single == multi, "entities": sum(map(len, multi))}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", ["span_ner", "contrastive_ner", "token_ner"])
def test_two_processes_after_the_parent_used_torch(pipeline):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    try:
        result = subprocess.run([sys.executable, "-c", SCRIPT, str(SAVED / pipeline)], capture_output=True,
                                text=True, env=env, timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail(f"nlp.pipe(n_process=2) on {pipeline} did not finish in 180 s (forked workers hang)")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["threads"] < 2:
        pytest.skip("torch runs one thread here: no thread pool for forked workers to wait on")
    assert report["same"] and report["entities"] > 0
