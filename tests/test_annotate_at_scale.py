"""`annotate` at cluster scale (slow): workers write their own units; exactly once after the
driver is killed, after an actor is killed, and after a node of a two-node Ray cluster is lost;
the rows on Ray equal the plain run's."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spacy_ner_ext.experiments.cluster_simulation import check_exactly_once

SAVED = Path(__file__).parent / "data" / "pipelines_0.1.0" / "span_ner"
TEXTS = ["john smith visited paris today", "mary jones works at acme corp", "he visited london and new york city",
         "reuters said google met the united nations in berlin"]
ENV = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
ENV.pop("RAY_ADDRESS", None)
# Every run below splits the input into units of 500 records (the reader's ranges).
RAY = ["--ray", "local", "--concurrency", "2", "--num-cpus", "1", "--records-per-unit", "500"]


def make_input(folder: Path, shards=3, per_shard=2000):
    folder.mkdir()
    for s in range(shards):
        rows = [{"id": f"s{s}-{i}", "text": TEXTS[i % 4] + f" number {i}"} for i in range(per_shard)]
        rows[7] = {"id": f"s{s}-7", "text": ""}  # one bad record per shard: an error, not a row
        (folder / f"s{s}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    return folder


def annotate_command(*args):
    return [sys.executable, "-m", "spacy_ner_ext", "annotate", str(SAVED), *map(str, args)]


def rows_of(output: Path):
    return {p.name: p.read_text(encoding="utf8") for p in sorted(output.glob("*.jsonl"))}


def units_done(output: Path) -> int:
    manifest = output / "manifest.json"
    try:
        return len(json.loads(manifest.read_text())["shards"]) if manifest.exists() else 0
    except json.JSONDecodeError:
        return 0


def start_on_ray_until_mid_run(data: Path, output: Path, seconds=600, **popen):
    """The command on a local Ray, returned once some units are recorded and others are being written."""
    process = subprocess.Popen(annotate_command(data, output, *RAY), env=ENV, **popen)
    deadline = time.time() + seconds
    while time.time() < deadline and process.poll() is None:
        if units_done(output) >= 1 and list(output.glob(".*.partial")):
            return process
        time.sleep(0.05)
    raise AssertionError(f"the run never reached the middle (return code {process.poll()})")


def actor_pids():
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/cmdline").read_bytes().startswith(b"ray::PipelineActor"):
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The plain run of the same input, units of the same size: what every other run must give."""
    folder = tmp_path_factory.mktemp("plain")
    data = make_input(folder / "in")
    result = subprocess.run(annotate_command(data, folder / "out", "--records-per-unit", "500"), env=ENV,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return data, folder / "out"


@pytest.mark.slow
def test_ray_rows_equal_the_plain_runs_after_the_driver_is_killed_and_run_again(plain, tmp_path):
    pytest.importorskip("ray")
    data, plain_out = plain
    out = tmp_path / "out"
    process = start_on_ray_until_mid_run(data, out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 1 <= units_done(out) < 12
    result = subprocess.run(annotate_command(data, out, *RAY), env=ENV, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    check = check_exactly_once(data, out)
    assert (check["duplicated"], check["missing"], check["errors"], check["leftover_temporary_files"]) == (0, 0, 3, 0)
    assert rows_of(out) == rows_of(plain_out)


@pytest.mark.slow
def test_a_killed_actor_costs_its_unit_only_and_the_run_goes_on(plain, tmp_path):
    pytest.importorskip("ray")
    data, plain_out = plain
    out = tmp_path / "out"
    process = start_on_ray_until_mid_run(data, out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    (victim, *_) = actor_pids()
    os.kill(victim, signal.SIGKILL)
    log = process.communicate(timeout=900)[0]
    assert process.returncode == 0, log[-3000:]
    check = check_exactly_once(data, out)
    assert (check["duplicated"], check["missing"], check["leftover_temporary_files"]) == (0, 0, 0)
    assert rows_of(out) == rows_of(plain_out)


@pytest.mark.slow
def test_a_two_node_cluster_that_loses_a_node_loses_and_duplicates_nothing(tmp_path):
    pytest.importorskip("ray")
    from spacy_ner_ext.experiments.cluster_simulation import simulate

    data = make_input(tmp_path / "in")
    result = simulate(str(SAVED), data, tmp_path / "out", records_per_unit=500, kill_after_units=1, timeout=900)
    assert result["returncode"] == 0, result["log_tail"]
    assert 1 <= result["units_done_when_removed"] < result["units"]  # the node was lost mid-run, not after it
    assert (result["duplicated"], result["missing"], result["unexpected"]) == (0, 0, 0)
    assert (result["written"], result["errors"], result["units"]) == (5997, 3, 12)


@pytest.mark.slow
def test_a_pipeline_the_actors_cannot_load_is_one_line_not_endless_restarts(tmp_path):
    """The driver's check passes; then the model is damaged before the actors read it (as a path
    the worker nodes cannot see would be): one line, exit 1, no loop of new actors."""
    pytest.importorskip("ray")
    import shutil

    shutil.copytree(SAVED, tmp_path / "model")
    data = make_input(tmp_path / "in", shards=1, per_shard=600)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "spacy_ner_ext", "annotate", str(tmp_path / "model"), str(data), str(out), *RAY]
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not out.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.01)
    (tmp_path / "model" / "span_ner" / "model").write_bytes(b"\x93")  # the actors load after this
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stdout[-2000:] + stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    # One line of ours; Ray may add its own notice as it starts (token authentication), nothing else.
    (ours,) = [line for line in lines if "✘" in line]
    assert "a pipeline actor could not load" in ours and "span_ner/model: damaged" in ours
    assert all(line == ours or "Ray" in line for line in lines), stderr
    assert "Traceback" not in stdout + stderr
