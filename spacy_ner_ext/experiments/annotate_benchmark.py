"""Speed and memory of `annotate` in each way of running it (plain nlp.pipe, several processes,
Ray with N actors), each run a fresh command on the same input, side by side in one JSON file.

Memory is sampled from /proc every 0.2 s over the command's whole process tree (Ray's actors
are children of the Ray that the command starts), so each worker's peak is its own.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

MODES = {
    "plain": [],
    "n_process=2": ["--n-process", "2"],
    "ray, 1 actor": ["--ray", "local", "--concurrency", "1", "--num-cpus", "2"],
    "ray, 2 actors": ["--ray", "local", "--concurrency", "2", "--num-cpus", "1"],
}


def _tree(root: int) -> List[int]:
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _ray_processes() -> List[int]:
    """Ray's own processes: the ones a local Ray starts detach from the command that started it."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            name = _name(int(entry))
            if name.startswith("ray::") or "/site-packages/ray/" in name:
                found.append(int(entry))
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return "?"


def measure(model: str, input_path: str, mode: List[str], batch_size: int) -> Dict:
    with tempfile.TemporaryDirectory() as tmp:
        summary_path = Path(tmp) / "summary.json"
        command = [sys.executable, "-m", "spacy_ner_ext", "annotate", model, input_path, str(Path(tmp) / "out"),
                   "--batch-size", str(batch_size), "--summary", str(summary_path), *mode]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        peaks: Dict[int, float] = {}
        names: Dict[int, str] = {}
        while process.poll() is None:
            tree = _tree(process.pid) + (_ray_processes() if "--ray" in mode else [])
            sizes = {pid: _rss_mb(pid) for pid in tree}
            for pid, size in sizes.items():
                if size > peaks.get(pid, 0.0):
                    peaks[pid] = size
                    # The latest name: a Ray worker starts idle and is renamed when it becomes an actor.
                    names[pid] = _name(pid)
            time.sleep(0.2)
        output = process.stdout.read()
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{output[-3000:]}")
        summary = json.loads(summary_path.read_text())
    workers = {pid: mb for pid, mb in peaks.items()
               if pid != process.pid and ("PipelineActor" in names[pid] or "spacy_ner_ext" in names[pid]
                                          or "multiprocessing" in names[pid])}
    # Ray's own processes (GCS, raylet, dashboard, idle workers), summed at their peaks: what a
    # local Ray costs beside the pipeline.
    ray_system = sum(mb for pid, mb in peaks.items() if pid != process.pid and pid not in workers)
    steady = summary["seconds"] - summary["startup_seconds"]
    return {
        "model": model, "mode": " ".join(mode) or "plain", "units": summary.get("units"),
        "records_in": summary["records_in"],
        "records_out": summary["records_out"], "errors": summary["errors"], "words": summary.get("words"),
        "wall_seconds": round(wall, 2), "seconds": summary["seconds"],
        "startup_seconds": summary["startup_seconds"],
        "records_per_second": round(summary["records_out"] / summary["seconds"], 1),
        "records_per_second_after_startup": round(summary["records_out"] / steady, 1) if steady > 0 else None,
        "words_per_second": round(summary["words"] / summary["seconds"], 1) if summary.get("words") else None,
        "peak_rss_mb_driver": round(peaks.get(process.pid, 0.0), 1),
        "peak_rss_mb_per_worker": sorted((round(mb, 1) for mb in workers.values()), reverse=True)[:4],
        "peak_rss_mb_ray_processes": round(ray_system, 1) if "--ray" in mode else None,
    }


def relative_to_plain(rows: List[Dict]) -> List[Dict]:
    """Each run's records/s over the plain run's of the same pipeline, whole runs and after
    start-up (the goal of issue 23: Ray within 15% of plain, both ways)."""
    plain = {r["model"]: r for r in rows if r["mode"] == "plain"}
    for row in rows:
        base = plain.get(row["model"])
        if base:
            row["vs_plain"] = round(row["records_per_second"] / base["records_per_second"], 3)
            if row["records_per_second_after_startup"] and base["records_per_second_after_startup"]:
                row["vs_plain_after_startup"] = round(row["records_per_second_after_startup"]
                                                      / base["records_per_second_after_startup"], 3)
    return rows
