"""A Ray cluster of two worker nodes on this machine, and a node lost in the middle of an
`annotate` run: does every input id come out exactly once?

The nodes are Ray's own (`ray.cluster_utils.Cluster`: a head that runs no work, and two worker
nodes with their own raylets and CPUs, as `ray start` makes them); the output folder is a path
both see. The run is the user's command, in a process of its own, with one actor per node; once
some units are done and others under way, one worker node is removed (its raylet and its actors
die). The run goes on with the actor left (the one asked for in place of the lost one has no
room, and waits); the check reads every output shard and errors.jsonl.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List


def input_ids(input_path: Path) -> List[str]:
    return [json.loads(line)["id"] for path in sorted(input_path.glob("*.jsonl"))
            for line in path.read_text(encoding="utf8").splitlines() if line.strip()]


def check_exactly_once(input_path: Path, output: Path) -> Dict:
    """Every input id in exactly one output row or error, none twice, none missing."""
    written = [json.loads(line)["id"] for path in sorted(output.glob("*.jsonl")) if path.name != "errors.jsonl"
               for line in path.read_text(encoding="utf8").splitlines() if line.strip()]
    errors = [json.loads(line)["id"] for line in (output / "errors.jsonl").read_text(encoding="utf8").splitlines()
              if line.strip()]
    expected = input_ids(input_path)
    seen = written + errors
    return {"input_ids": len(expected), "written": len(written), "errors": len(errors),
            "duplicated": len(seen) - len(set(seen)), "missing": len(set(expected) - set(seen)),
            "unexpected": len(set(seen) - set(expected)),
            "leftover_temporary_files": len(list(output.rglob("*.partial")))}


def simulate(model: str, input_path: Path, output: Path, records_per_unit: int = 2000, batch_size: int = 64,
             kill_after_units: int = 1, timeout: float = 1800) -> Dict:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        nodes = [cluster.add_node(num_cpus=1) for _ in range(2)]
        cluster.wait_for_nodes()
        command = [sys.executable, "-m", "spacy_ner_ext", "annotate", model, str(input_path), str(output),
                   "--ray", cluster.address, "--concurrency", "2", "--num-cpus", "1", "--batch-size",
                   str(batch_size), "--records-per-unit", str(records_per_unit), "--summary",
                   str(output.parent / f"{output.name}.summary.json")]
        env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        env.pop("RAY_ADDRESS", None)
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        killed_at, units_done_at_kill = None, None
        while process.poll() is None and time.perf_counter() - started < timeout:
            manifest = output / "manifest.json"
            done = len(json.loads(manifest.read_text())["shards"]) if manifest.exists() else 0
            # Units done, and more being written: a node lost in the middle of the run.
            if killed_at is None and done >= kill_after_units and list(output.glob(".*.partial")):
                cluster.remove_node(nodes[1], allow_graceful=False)
                killed_at, units_done_at_kill = round(time.perf_counter() - started, 1), done
            time.sleep(0.2)
        if process.poll() is None:
            process.kill()
        log = process.stdout.read()
        result = {"command": " ".join(command[1:]), "returncode": process.returncode,
                  "seconds": round(time.perf_counter() - started, 1), "node_removed_at_seconds": killed_at,
                  "units_done_when_removed": units_done_at_kill, "log_tail": log[-1500:]}
        if process.returncode == 0:
            result.update(check_exactly_once(input_path, output))
            result["units"] = len(json.loads((output / "manifest.json").read_text())["shards"])
        return result
    finally:
        cluster.shutdown()
