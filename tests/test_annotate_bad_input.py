"""annotate never loses a record: outputs kept apart from inputs, one record that makes the
pipeline raise costs that record only, one rule of where lines end, in = out + errors, and
ids unique across the input tree. The command-line runs are in test_bad_input_commands.py."""
import hashlib
import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from spacy_ner_ext.annotation.annotate import AnnotateOptions, annotate
from spacy_ner_ext.annotation.guarded_pipe import pipe_guarded
from spacy_ner_ext.annotation.records import InputError, ReadOptions, iter_lines, read_shard, scan_shard

SAVED = Path(__file__).parent / "data" / "pipelines_0.1.0" / "span_ner"
TEXTS = ["john smith visited paris today", "mary jones works at acme corp", "he visited london and new york city",
         "reuters said google met the united nations in berlin"]


def run(input_path, output, **options):
    read = ReadOptions(format=options.pop("input_format", None))
    return annotate(str(SAVED), str(input_path), Path(output), read, AnnotateOptions(**options))


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf8").splitlines()]


def fingerprint(folder: Path):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def shards(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "a.jsonl").write_text("".join(json.dumps({"id": f"a{i}", "text": t}) + "\n"
                                                     for i, t in enumerate(TEXTS)), encoding="utf8")
    (tmp_path / "in" / "sub" / "b.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf8")
    return tmp_path / "in"


@pytest.mark.parametrize("where", ["in", "in/sub", "in/new/deeper"])
def test_an_output_folder_that_is_or_lies_inside_the_input_folder_is_refused_before_any_work(shards, where):
    before = fingerprint(shards)
    output = shards.parent / where
    existed = output.exists()
    with pytest.raises(InputError, match="choose an output folder outside the input"):
        run(shards, output)
    assert fingerprint(shards) == before  # every input byte for byte, and nothing added
    assert output.exists() == existed


def test_an_output_folder_holding_an_input_file_is_refused(shards):
    before = fingerprint(shards)
    with pytest.raises(InputError, match=r"holds the input .*a.jsonl"):
        run(shards / "a.jsonl", shards)
    with pytest.raises(InputError, match=r"holds the input .*b.txt"):
        run(f"{shards}/sub/*.txt", shards)
    assert fingerprint(shards) == before


def test_a_glob_refuses_an_output_it_would_read_back_and_allows_one_it_would_not(shards):
    with pytest.raises(InputError, match="inside the input"):
        run(f"{shards}/*", shards / "out")  # in/out/... matches in/* as a folder name
    with pytest.raises(InputError, match="inside the input"):
        run(f"{shards}/**/*.jsonl", shards / "out")
    summary = run(f"{shards}/*.jsonl", shards / "out")  # in/out/a.jsonl is not in/*.jsonl
    assert (summary.records_in, summary.records_out) == (4, 4)


def test_ids_made_from_shard_names_are_unique_across_the_input_tree(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / "in" / folder).mkdir(parents=True)
        (tmp_path / "in" / folder / "same.txt").write_text("\n".join(TEXTS[:2]) + "\n", encoding="utf8")
    summary = run(tmp_path / "in", tmp_path / "out")
    assert (summary.records_out, summary.errors) == (4, 0)  # none dropped as a duplicate
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "x__same.jsonl")] == ["x/same.txt:1", "x/same.txt:2"]
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "y__same.jsonl")] == ["y/same.txt:1", "y/same.txt:2"]


def test_lines_end_at_newline_only_for_the_scanner_the_reader_and_the_ids(tmp_path):
    data = "john smith\rvisited paris\r\nmary jones\u2028works\nhe visited london\n".encode("utf8")
    (tmp_path / "in.txt").write_bytes(data)
    shard = scan_shard(tmp_path / "in.txt", "txt")
    records = list(read_shard(shard, ReadOptions(format="txt")))
    assert shard.records == len(records) == 3
    assert [r.text for r in records] == ["john smith\rvisited paris", "mary jones\u2028works", "he visited london"]
    assert [r.id for r in records] == ["in.txt:1", "in.txt:2", "in.txt:3"]
    assert len(list(iter_lines(open(tmp_path / "in.txt", "rb")))) == 3
    summary = run(tmp_path / "in.txt", tmp_path / "out")
    assert (summary.records_in, summary.records_out, summary.errors) == (3, 3, 0)
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "in.jsonl")] == ["in.txt:1", "in.txt:2", "in.txt:3"]


def test_a_lone_surrogate_in_a_text_or_an_id_is_that_records_error(tmp_path):
    lines = ['{"id": "ok", "text": "john smith visited paris"}', '{"id": "bad", "text": "paris \\ud800 today"}',
             '{"id": "bad\\udfff", "text": "mary jones"}', '{"id": "ok2", "text": "mary jones"}']
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf8")
    summary = run(tmp_path / "a.jsonl", tmp_path / "out")
    assert (summary.records_in, summary.records_out, summary.errors) == (4, 2, 2)
    errors = read_jsonl(tmp_path / "out" / "errors.jsonl")
    assert [(e["line"], e["id"]) for e in errors] == [(2, "bad"), (3, None)]
    assert "lone surrogate U+D800 at character 6" in errors[0]["reason"]
    assert errors[1]["reason"].startswith("the id holds a lone surrogate U+DFFF")
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "a.jsonl")] == ["ok", "ok2"]


def test_every_shard_adds_up_even_for_a_binary_file(tmp_path):
    (tmp_path / "in").mkdir()
    # Bytes of every value, bare "\r"s among them: lines that are not UTF-8, not JSON, or neither.
    (tmp_path / "in" / "binary.jsonl").write_bytes(bytes(range(256)) * 40 + b"\r\r\n\x00\xff\r")
    (tmp_path / "in" / "good.jsonl").write_text(json.dumps({"id": "g", "text": TEXTS[0]}) + "\n")
    summary = run(tmp_path / "in", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())["shards"]
    errors = read_jsonl(tmp_path / "out" / "errors.jsonl")
    assert manifest["binary.jsonl"]["records_in"] == (bytes(range(256)) * 40 + b"\r\r\n\x00\xff\r").count(b"\n") + 1
    for name, entry in manifest.items():
        in_errors = sum(Path(e["shard"]).name == name for e in errors)
        assert entry["records_in"] == entry["records_out"] + entry["errors"] and entry["errors"] == in_errors
    assert summary.records_in == summary.records_out + summary.errors == sum(e["records_in"] for e in manifest.values())


FAILS_ON = "boom"


@Language.component("fails_on_boom")
def fails_on_boom(doc):
    if FAILS_ON in doc.text:
        raise RuntimeError(f"cannot handle {doc.text!r}")
    return doc


def test_one_record_that_makes_the_pipeline_raise_costs_that_record_only():
    nlp = spacy.blank("en")
    nlp.add_pipe("fails_on_boom")
    texts = [f"text {i}" for i in range(10)]
    texts[4] = "text boom"
    out = list(pipe_guarded(nlp, [(t, i) for i, t in enumerate(texts)], batch_size=3))
    assert [context for context, _, _ in out] == list(range(10))  # every record, in order
    assert [i for i, doc, reason in out if doc is None] == [4]
    assert out[4][2] == "the pipeline failed on this record: RuntimeError: cannot handle 'text boom'"
    assert [doc.text for _, doc, _ in out if doc is not None] == texts[:4] + texts[5:]


def test_an_error_of_the_reader_is_raised_after_the_records_before_it():
    nlp = spacy.blank("en")

    def items():
        yield "one", 1
        yield "two", 2
        raise InputError("the reader stops here")

    out = []
    with pytest.raises(InputError, match="the reader stops here"):
        for context, doc, _ in pipe_guarded(nlp, items(), batch_size=8):
            out.append(context)
    assert out == [1, 2]


def test_annotate_lists_the_failing_record_and_goes_on(tmp_path, monkeypatch):
    from spacy_ner_ext.annotation import annotate as annotate_module

    load = annotate_module.load_pipeline

    def with_a_failing_component(*args, **kwargs):
        nlp = load(*args, **kwargs)
        nlp.add_pipe("fails_on_boom", first=True)
        return nlp

    monkeypatch.setattr(annotate_module, "load_pipeline", with_a_failing_component)
    rows = [{"id": f"r{i}", "text": t} for i, t in enumerate(TEXTS + ["paris boom"] + TEXTS)]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    summary = run(tmp_path / "a.jsonl", tmp_path / "out", batch_size=2)
    assert (summary.records_in, summary.records_out, summary.errors) == (9, 8, 1)
    (error,) = read_jsonl(tmp_path / "out" / "errors.jsonl")
    assert (error["id"], error["line"]) == ("r4", 5) and "RuntimeError: cannot handle 'paris boom'" in error["reason"]
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "a.jsonl")] == [f"r{i}" for i in range(9) if i != 4]


def test_an_input_shard_named_like_the_errors_file_is_refused(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "errors.txt").write_text(TEXTS[0] + "\n")
    with pytest.raises(InputError, match=r"errors.txt: its annotations would be written to errors.jsonl"):
        run(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_id_without_a_text_and_a_shard_name_that_is_not_utf8_are_listed_not_fatal(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text('{"id": "\\udc80", "body": "x"}\n{"id": "ok", "text": "paris"}\n')
    odd = Path(bytes(tmp_path / "in") .decode() + "/b\udcff.jsonl")  # the file name byte 0xff, as Python names it
    odd.write_text('{"id": "b1"}\n')
    summary = run(tmp_path / "in", tmp_path / "out")
    assert (summary.records_in, summary.records_out, summary.errors) == (3, 1, 2)
    errors = (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf8").splitlines()
    assert "the id holds a lone surrogate U+DC80" in errors[0] and "no 'text' field" in errors[1]


def test_a_glob_whose_prefix_is_a_folder_reads_what_it_matches(tmp_path):
    for folder in ("in", "in2"):
        (tmp_path / "data" / folder).mkdir(parents=True)
        (tmp_path / "data" / folder / "a.txt").write_text(TEXTS[0] + "\n")
    summary = run(f"{tmp_path}/data/in*/*.txt", tmp_path / "out")
    assert (summary.shards, summary.records_out) == (2, 2)
    assert sorted(p.name for p in (tmp_path / "out").glob("*.jsonl")) == ["errors.jsonl", "in2__a.jsonl", "in__a.jsonl"]


def test_the_output_files_the_run_keeps_for_itself_never_match_the_input_glob(tmp_path):
    (tmp_path / "in" / "x" / "y").mkdir(parents=True)
    (tmp_path / "in" / "x" / "y" / "a.jsonl").write_text(json.dumps({"id": "1", "text": TEXTS[0]}) + "\n")
    # in/out/.errors/a.jsonl would match in/*/*/*.jsonl on the next run.
    with pytest.raises(InputError, match="inside the input"):
        run(f"{tmp_path}/in/*/*/*.jsonl", tmp_path / "in" / "out")


def test_the_summary_counts_the_shards_of_this_input_only(tmp_path):
    (tmp_path / "in").mkdir()
    for name in "ab":
        (tmp_path / "in" / f"{name}.txt").write_text("\n".join(TEXTS) + "\n\n")  # 4 texts and an empty line
    run(tmp_path / "in", tmp_path / "out")
    (tmp_path / "in" / "b.txt").unlink()
    summary = run(tmp_path / "in", tmp_path / "out")
    assert (summary.records_in, summary.records_out, summary.errors) == (5, 4, 1)


def test_a_pipeline_that_does_not_load_leaves_no_output_folder_behind(tmp_path):
    (tmp_path / "a.txt").write_text(TEXTS[0] + "\n")
    token_ner = SAVED.parent / "token_ner"
    with pytest.raises(InputError, match="--labels and --descriptions need span_ner or contrastive_ner"):
        annotate(str(token_ner), str(tmp_path / "a.txt"), tmp_path / "out", ReadOptions(None),
                 AnnotateOptions(labels=["PER"]))
    assert not (tmp_path / "out").exists()


def test_on_ray_a_damaged_pipeline_is_named_before_ray_starts(tmp_path):
    import shutil

    from spacy_ner_ext.errors import DamagedPipelineError

    shutil.copytree(SAVED, tmp_path / "model")
    (tmp_path / "model" / "span_ner" / "model").write_bytes(b"\x93")
    (tmp_path / "a.txt").write_text(TEXTS[0] + "\n")
    with pytest.raises(DamagedPipelineError, match=r"model/span_ner/model: damaged"):
        annotate(str(tmp_path / "model"), str(tmp_path / "a.txt"), tmp_path / "out", ReadOptions(None),
                 AnnotateOptions(ray_address="local"))
    assert not (tmp_path / "out").exists()


@Language.component("always_fails")
def always_fails(doc):
    raise MemoryError("out of memory")


def test_a_pipeline_that_fails_on_every_record_stops_with_its_error():
    nlp = spacy.blank("en")
    nlp.add_pipe("always_fails")
    with pytest.raises(MemoryError, match="out of memory"):
        list(pipe_guarded(nlp, [(f"text {i}", i) for i in range(10)], batch_size=4))


def test_a_byte_order_mark_is_not_part_of_the_first_record(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "first", "text": TEXTS[0]}).encode() + b"\n")
    summary = run(tmp_path / "a.jsonl", tmp_path / "out")
    assert (summary.records_out, summary.errors) == (1, 0)
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "a.jsonl")] == ["first"]


def test_an_id_that_is_an_object_or_a_list_is_that_records_error(tmp_path):
    rows = [{"id": {"doc": 1}, "text": TEXTS[0]}, {"id": ["x"], "text": TEXTS[1]}, {"id": 7, "text": TEXTS[2]}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = run(tmp_path / "a.jsonl", tmp_path / "out")
    assert (summary.records_out, summary.errors) == (1, 2)
    reasons = [e["reason"] for e in read_jsonl(tmp_path / "out" / "errors.jsonl")]
    assert reasons == ["the id is a JSON dict, not a string or number", "the id is a JSON list, not a string or number"]
