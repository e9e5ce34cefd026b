"""`annotate`: every input format, complete shards and resume, bad records in errors.jsonl,
clear errors before any work, and the Ray path giving what the plain path gives."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import spacy

from spacy_ner_ext.annotation.annotate import AnnotateOptions, annotate, entities_of
from spacy_ner_ext.annotation.records import InputError, ReadOptions
from spacy_ner_ext.errors import UserInputError

SAVED = Path(__file__).parent / "data" / "pipelines_0.1.0" / "span_ner"
TEXTS = ["john smith visited paris today", "mary jones works at acme corp", "he visited london and new york city",
         "reuters said google met the united nations in berlin"]


@pytest.fixture(scope="module")
def nlp():
    return spacy.load(SAVED)


def expected_entities(nlp, text):
    return entities_of(nlp(text))


def run(input_path, output, **options):
    read = ReadOptions(format=options.pop("input_format", None), text_field=options.pop("text_field", "text"),
                       id_field=options.pop("id_field", "id"), max_chars=options.pop("max_chars", 1_000_000),
                       id_required=options.pop("id_required", False))
    return annotate(str(SAVED), str(input_path), Path(output), read, AnnotateOptions(**options))


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf8").splitlines()]


def write_jsonl(path, rows):
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")


@pytest.mark.parametrize("output_format", ["jsonl", "parquet"])
def test_every_input_format_round_trips(nlp, tmp_path, output_format):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"doc": f"j{i}", "body": t} for i, t in enumerate(TEXTS)])
    (tmp_path / "in" / "b.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf8")
    pq.write_table(pa.table({"body": TEXTS, "doc": [f"p{i}" for i in range(4)]}), tmp_path / "in" / "c.parquet",
                   row_group_size=3)
    summary = run(tmp_path / "in", tmp_path / "out", text_field="body", id_field="doc", keep_text=True,
                  output_format=output_format)
    assert (summary.shards, summary.records_in, summary.records_out, summary.errors) == (3, 12, 12, 0)
    if output_format == "jsonl":
        rows = {name: read_jsonl(tmp_path / "out" / f"{name}.jsonl") for name in "abc"}
    else:
        rows = {name: pq.read_table(tmp_path / "out" / f"{name}.parquet").to_pylist() for name in "abc"}
    assert [r["id"] for r in rows["a"]] == ["j0", "j1", "j2", "j3"]
    assert [r["id"] for r in rows["b"]] == ["b.txt:1", "b.txt:2", "b.txt:3", "b.txt:4"]
    assert [r["id"] for r in rows["c"]] == ["p0", "p1", "p2", "p3"]
    for shard in rows.values():
        for row, text in zip(shard, TEXTS):
            assert row["text"] == text
            assert row["entities"] == expected_entities(nlp, text)
    assert any(row["entities"] for row in rows["a"])  # the pipeline does find entities here
    entity = rows["a"][0]["entities"][0]
    assert TEXTS[0][entity["start_char"]:entity["end_char"]] == entity["text"]


def test_every_bad_record_lands_in_errors_with_its_line(tmp_path):
    huge = "paris " * 500_000  # 3 million characters
    lines = [json.dumps({"id": "ok1", "text": TEXTS[0]}), "{not json", json.dumps({"id": "nofield"}),
             json.dumps({"id": "empty", "text": "  "}), json.dumps({"id": "number", "text": 42}),
             json.dumps({"id": "ok1", "text": TEXTS[1]}), json.dumps({"id": "huge", "text": huge}),
             json.dumps(["a", "list"]), json.dumps({"id": "ok2", "text": TEXTS[2]})]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf8")
    (tmp_path / "in" / "b.txt").write_bytes(TEXTS[3].encode() + b"\n\xff\xfe not utf-8\n")
    summary = run(tmp_path / "in", tmp_path / "out")
    assert (summary.records_in, summary.records_out, summary.errors) == (11, 3, 8)
    errors = read_jsonl(tmp_path / "out" / "errors.jsonl")
    by_line = {(Path(e["shard"]).name, e["line"]): e["reason"] for e in errors}
    assert by_line[("a.jsonl", 2)].startswith("invalid JSON")
    assert by_line[("a.jsonl", 3)] == "no 'text' field"
    assert by_line[("a.jsonl", 4)] == "empty text"
    assert by_line[("a.jsonl", 5)] == "text is a int, not a string"
    assert by_line[("a.jsonl", 6)] == "duplicated id 'ok1': annotated once already"
    assert by_line[("a.jsonl", 7)].startswith("text of 3,000,000 characters is longer than --max-chars")
    assert by_line[("a.jsonl", 8)] == "a JSON list, not an object"
    assert by_line[("b.txt", 2)].startswith("not UTF-8 text")
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "a.jsonl")] == ["ok1", "ok2"]


def test_strict_stops_at_the_first_bad_record(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": TEXTS[0]}, {"id": "2", "text": ""}])
    with pytest.raises(InputError, match=r"a.jsonl, line 2: empty text"):
        run(tmp_path / "a.jsonl", tmp_path / "out", strict=True)
    assert not (tmp_path / "out" / "a.jsonl").exists()  # no half shard left behind


def test_empty_input_and_one_record(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    summary = run(tmp_path / "empty.jsonl", tmp_path / "out0")
    assert (summary.records_in, summary.records_out, summary.errors) == (0, 0, 0)
    assert (tmp_path / "out0" / "empty.jsonl").read_text() == ""
    write_jsonl(tmp_path / "one.jsonl", [{"id": "only", "text": TEXTS[0]}])
    run(tmp_path / "one.jsonl", tmp_path / "out1")
    assert [r["id"] for r in read_jsonl(tmp_path / "out1" / "one.jsonl")] == ["only"]


def test_a_second_run_skips_complete_shards_and_redoes_the_rest(tmp_path):
    (tmp_path / "in").mkdir()
    for name in "ab":
        write_jsonl(tmp_path / "in" / f"{name}.jsonl", [{"id": f"{name}{i}", "text": t} for i, t in enumerate(TEXTS)])
    run(tmp_path / "in", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["shards"]["a.jsonl"]["records_out"] == 4 and len(manifest["shards"]["a.jsonl"]["sha256"]) == 64
    # A crash left b's output half written: it is not recorded, so it is redone.
    (tmp_path / "out" / "b.jsonl").unlink()
    (tmp_path / "out" / ".b.jsonl.partial").write_text('{"id": "b0", "entities": []}\n')
    manifest["shards"].pop("b.jsonl")
    (tmp_path / "out" / "manifest.json").write_text(json.dumps(manifest))
    summary = run(tmp_path / "in", tmp_path / "out")
    assert (summary.skipped, summary.records_out) == (1, 8)
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "b.jsonl")] == ["b0", "b1", "b2", "b3"]
    # A changed input is redone too.
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": "a9", "text": TEXTS[0]}])
    summary = run(tmp_path / "in", tmp_path / "out")
    assert summary.skipped == 1 and [r["id"] for r in read_jsonl(tmp_path / "out" / "a.jsonl")] == ["a9"]


def test_clear_errors_before_any_work(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": TEXTS[0]}])
    with pytest.raises(InputError, match="no such file or folder"):
        run(tmp_path / "missing.jsonl", tmp_path / "out")
    with pytest.raises(UserInputError, match="no such pipeline folder or installed package"):
        annotate(str(tmp_path / "no-model"), str(tmp_path / "a.jsonl"), tmp_path / "out", ReadOptions(None),
                 AnnotateOptions())
    run(tmp_path / "a.jsonl", tmp_path / "out")
    with pytest.raises(InputError, match=r"holds the output of another run \(it differs in: keep_text\)"):
        run(tmp_path / "a.jsonl", tmp_path / "out", keep_text=True)


def cli(*args, **kwargs):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run([sys.executable, "-m", "spacy_ner_ext", "annotate", *map(str, args)], capture_output=True,
                          text=True, env=env, **kwargs)


@pytest.mark.slow
def test_the_command_prints_one_line_for_bad_input(tmp_path):
    result = cli(SAVED, tmp_path / "missing.jsonl", tmp_path / "out")
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]  # one line, on stderr
    assert "missing.jsonl: no such file or folder" in line and "Traceback" not in result.stdout + result.stderr


@pytest.mark.slow
def test_killed_mid_shard_then_run_again_gives_every_id_exactly_once(tmp_path):
    (tmp_path / "in").mkdir()
    n_shards, per_shard = 4, 1500
    for s in range(n_shards):
        write_jsonl(tmp_path / "in" / f"s{s}.jsonl",
                    [{"id": f"s{s}-{i}", "text": TEXTS[i % 4]} for i in range(per_shard)])
    out = tmp_path / "out"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    process = subprocess.Popen([sys.executable, "-m", "spacy_ner_ext", "annotate", str(SAVED), str(tmp_path / "in"),
                                str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    while time.time() < deadline:  # kill it while a shard is half written, after one is complete
        if (out / "manifest.json").exists() and list(out.glob(".s*.partial")):
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = json.loads((out / "manifest.json").read_text())["shards"]
    assert 1 <= len(done_before) < n_shards
    result = cli(SAVED, tmp_path / "in", out, "--n-process", "2", timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    ids = [row["id"] for s in range(n_shards) for row in read_jsonl(out / f"s{s}.jsonl")]
    assert len(ids) == len(set(ids)) == n_shards * per_shard
    manifest = json.loads((out / "manifest.json").read_text())["shards"]
    assert sum(m["records_out"] for m in manifest.values()) == n_shards * per_shard
    assert not list(out.glob(".*.partial")) and (out / "errors.jsonl").read_text() == ""


@pytest.mark.slow
def test_ray_with_two_actors_gives_what_the_plain_path_gives(tmp_path):
    pytest.importorskip("ray")
    (tmp_path / "in").mkdir()
    for name in "ab":
        rows = [{"id": f"{name}{i}", "text": TEXTS[i % 4]} for i in range(50)] + [{"id": f"{name}x", "text": ""}]
        write_jsonl(tmp_path / "in" / f"{name}.jsonl", rows)
    plain = run(tmp_path / "in", tmp_path / "plain")
    result = cli(SAVED, tmp_path / "in", tmp_path / "ray", "--ray", "local", "--concurrency", "2", timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for name in "ab":
        assert read_jsonl(tmp_path / "ray" / f"{name}.jsonl") == read_jsonl(tmp_path / "plain" / f"{name}.jsonl")
    assert read_jsonl(tmp_path / "ray" / "errors.jsonl") == read_jsonl(tmp_path / "plain" / "errors.jsonl")
    assert plain.errors == 2 and plain.records_out == 100


def test_labels_keep_the_pipelines_descriptions_and_name_new_types_in_words(tmp_path):
    """--labels chooses types: one the pipeline knows keeps its description, a new one is
    described by its name in words (as load_universal does), a --descriptions file wins."""
    from spacy_ner_ext.annotation.annotate import load_pipeline

    saved = tmp_path / "model"
    nlp = spacy.load(SAVED)
    nlp.get_pipe("span_ner").set_descriptions({"PER": "the name of a person"})
    nlp.to_disk(saved)
    pipe = load_pipeline(str(saved), ["PER", "restaurant_name"]).get_pipe("span_ner")
    assert pipe.descriptions == {"PER": "the name of a person", "restaurant_name": "restaurant name"}
    (tmp_path / "d.json").write_text(json.dumps({"restaurant_name": "the name of a restaurant"}))
    pipe = load_pipeline(str(saved), ["PER", "restaurant_name"], str(tmp_path / "d.json")).get_pipe("span_ner")
    assert pipe.descriptions == {"PER": "the name of a person", "restaurant_name": "the name of a restaurant"}


def test_a_named_id_field_that_records_lack_is_their_error_not_a_line_number(tmp_path):
    """--id-field names a field every record must have: a typo is not a file:line id, silently."""
    pytest.importorskip("pyarrow")
    import pyarrow
    import pyarrow.parquet

    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"doc": "d1", "text": TEXTS[0]}, {"id": "x", "text": TEXTS[1]}])
    summary = run(tmp_path / "in", tmp_path / "out", id_field="doc", id_required=True)
    assert (summary.records_out, summary.errors) == (1, 1)
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "a.jsonl")] == ["d1"]
    (error,) = read_jsonl(tmp_path / "out" / "errors.jsonl")
    assert (error["line"], error["reason"]) == (2, "no 'doc' field (--id-field)")
    # Without --id-field, "id" is used where there is one and file:line elsewhere, as before.
    run(tmp_path / "in", tmp_path / "default")
    assert [r["id"] for r in read_jsonl(tmp_path / "default" / "a.jsonl")] == ["a.jsonl:1", "x"]
    (tmp_path / "pq").mkdir()
    pyarrow.parquet.write_table(pyarrow.table({"text": TEXTS[:2]}), tmp_path / "pq" / "a.parquet")
    with pytest.raises(InputError, match=r"a\.parquet: no column 'doc' \(--id-field; columns: text\)"):
        run(tmp_path / "pq", tmp_path / "out-pq", id_field="doc", id_required=True)


def test_a_big_shard_is_written_in_parts_that_read_in_order_as_the_whole(tmp_path):
    rows = [{"id": f"r{i}", "text": TEXTS[i % 4]} for i in range(1200)] + [{"id": "bad", "text": ""}]
    write_jsonl(tmp_path / "big.jsonl", rows)
    whole = run(tmp_path / "big.jsonl", tmp_path / "whole")
    parts = run(tmp_path / "big.jsonl", tmp_path / "parts", records_per_unit=500)  # ranges of 500 lines
    names = sorted(p.name for p in (tmp_path / "parts").glob("big*.jsonl"))
    assert names == ["big-00000-of-00003.jsonl", "big-00001-of-00003.jsonl", "big-00002-of-00003.jsonl"]
    assert [r for n in names for r in read_jsonl(tmp_path / "parts" / n)] == read_jsonl(tmp_path / "whole" / "big.jsonl")
    assert (parts.units, whole.units) == (3, 1) and (parts.records_out, parts.errors) == (1200, 1)
    assert read_jsonl(tmp_path / "parts" / "errors.jsonl") == read_jsonl(tmp_path / "whole" / "errors.jsonl")
    # The manifest holds what each unit is, never its rows.
    manifest = json.loads((tmp_path / "parts" / "manifest.json").read_text())
    assert manifest["shards"]["big-00001-of-00003.jsonl"] == {
        "input": str(tmp_path / "big.jsonl"), "sha256": manifest["shards"]["big-00000-of-00003.jsonl"]["sha256"],
        "output": "big-00001-of-00003.jsonl", "part": 1, "parts": 3, "records_in": 500, "records_out": 500,
        "errors": 0}
    assert "john" not in (tmp_path / "parts" / "manifest.json").read_text()
    # A part lost after the run is redone alone.
    (tmp_path / "parts" / "big-00001-of-00003.jsonl").unlink()
    again = run(tmp_path / "big.jsonl", tmp_path / "parts", records_per_unit=500)
    assert again.skipped == 2 and again.records_out == 1200
    assert [r["id"] for r in read_jsonl(tmp_path / "parts" / "big-00001-of-00003.jsonl")] == [f"r{i}" for i in range(500, 1000)]


def test_an_id_repeated_in_a_later_shard_is_written_once_and_listed_there(tmp_path):
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": "x", "text": TEXTS[0]}, {"id": "a1", "text": TEXTS[1]}])
    write_jsonl(tmp_path / "in" / "b.jsonl", [{"id": "b0", "text": TEXTS[2]}, {"id": "x", "text": TEXTS[3]}])
    summary = run(tmp_path / "in", tmp_path / "out")
    assert (summary.records_out, summary.errors) == (3, 1)
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "a.jsonl")] == ["x", "a1"]
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "b.jsonl")] == ["b0"]
    (error,) = read_jsonl(tmp_path / "out" / "errors.jsonl")
    assert (error["shard"].endswith("b.jsonl"), error["line"], error["id"]) == (True, 2, "x")
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["shards"]["b.jsonl"]["errors"] == 1
    with pytest.raises(InputError, match=r"b.jsonl, line 2: duplicated id 'x'"):
        run(tmp_path / "in", tmp_path / "strict", strict=True)
    assert not (tmp_path / "strict" / "b.jsonl").exists()


def test_a_shard_that_changed_leaves_no_parts_of_its_old_split(tmp_path):
    write_jsonl(tmp_path / "s.jsonl", [{"id": f"r{i}", "text": TEXTS[i % 4]} for i in range(1200)])
    run(tmp_path / "s.jsonl", tmp_path / "out", records_per_unit=500)
    assert len(list((tmp_path / "out").glob("s-*.jsonl"))) == 3
    write_jsonl(tmp_path / "s.jsonl", [{"id": f"n{i}", "text": TEXTS[i % 4]} for i in range(400)])
    summary = run(tmp_path / "s.jsonl", tmp_path / "out", records_per_unit=500)
    assert sorted(p.name for p in (tmp_path / "out").glob("s*.jsonl")) == ["s.jsonl"]
    assert list(json.loads((tmp_path / "out" / "manifest.json").read_text())["shards"]) == ["s.jsonl"]
    assert summary.records_out == 400 and not list((tmp_path / "out").rglob("s-*"))


def test_a_workers_failure_is_raised_in_input_order_after_the_units_before_it():
    from spacy_ner_ext.annotation.annotate import _in_input_order
    from spacy_ner_ext.annotation.units import UnitResult

    def result(index, failure=None):
        return UnitResult(index, "in.jsonl", "x", f"u{index}", index, 4, failure=failure, strict_stop=bool(failure))

    # Unit 3's stop arrives first, unit 1's after it: unit 0 is handed on, then unit 1's stop is raised.
    arrivals = [result(3, "in.jsonl, line 1501: empty text"), result(0), result(1, "in.jsonl, line 501: empty text"),
                result(2)]
    handed = []
    with pytest.raises(InputError, match="line 501"):
        for r in _in_input_order(iter(arrivals), [0, 1, 2, 3]):
            handed.append(r.index)
    assert handed == [0]


def test_two_shards_that_would_write_one_output_are_named(tmp_path):
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": "1", "text": TEXTS[0]}])
    (tmp_path / "in" / "a.txt").write_text(TEXTS[1] + "\n")
    with pytest.raises(InputError, match=r"a.jsonl and .*a.txt would both be written to a.jsonl: rename one"):
        run(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()
