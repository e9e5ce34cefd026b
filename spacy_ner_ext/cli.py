"""`python -m spacy_ner_ext`: convert corpora, evaluate pipelines, benchmark them."""
import math
import sys
from pathlib import Path
from typing import List, Optional

import spacy
import srsly
import typer
from spacy.tokens import DocBin
from tqdm import tqdm
from typer.core import TyperGroup
from wasabi import msg
from wasabi.util import color as wasabi_color

from .corpus import FORMATS, read_docs, train_dev_split, write_conll, write_gliner_json, write_jsonl
from .corpus.tags import SCHEMES
from .errors import UserInputError
from .evaluation.evaluate import evaluate_pipeline, load_examples, print_table, warn_if_no_shared_types
from .annotation.units import RECORDS_PER_UNIT
from .pipeline.loading import check_pipeline_exists, load_pipeline, use_gpu


def fail(text: str) -> None:
    """The one line a command prints for bad input, `✘ <where>: <problem>` as wasabi's
    msg.fail draws it, on stderr and never wrapped (msg.fail wraps at 80 columns)."""
    line = " ".join(str(text).split())
    if msg.pretty:
        line = f"{msg.icons['fail']} {line}"
        if msg.show_color:
            line = wasabi_color(line, fg=msg.colors["red"])
    print(line, file=sys.stderr, flush=True)


def _usage_errors() -> tuple:
    """The exceptions of a bad command line: click's, or since typer 0.2x typer's own copy of them."""
    errors = [getattr(typer, "TyperException", None)]
    try:
        import click

        errors.append(click.ClickException)
    except ImportError:
        pass
    return tuple(e for e in errors if e is not None)


class OneLineErrors(TyperGroup):
    """Bad input, whether the command's own check or typer's check of an argument, is one
    `fail` line and exit 1 (2 for a usage error, as click has it): never a traceback, never a
    panel. Anything else is a bug and keeps its traceback."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except UserInputError as err:
            fail(str(err))
            raise typer.Exit(1) from None
        except OSError as err:
            # A path the file system refuses (no such folder, a file where a folder should be,
            # no permission, disk full): the user's to fix, named in one line.
            if err.filename is None:
                raise
            fail(f"{err.filename}: {err.strerror or err}")
            raise typer.Exit(1) from None

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _usage_errors() as err:
            if type(err).__name__ == "NoArgsIsHelpError":  # no arguments at all: the help, as asked
                err.show()
                sys.exit(0)
            context = getattr(err, "ctx", None)
            hint = f" (see '{context.command_path} --help')" if context is not None else ""
            fail(err.format_message() + hint)
            sys.exit(getattr(err, "exit_code", 2))
        except typer.Abort:
            fail("Aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(add_completion=False, help=__doc__, no_args_is_help=True, cls=OneLineErrors)

WRITERS = {".spacy": None, ".jsonl": write_jsonl, ".json": write_gliner_json, ".conll": write_conll, ".tsv": write_conll}


def _one_of(*choices: str, fold_case: bool = False):
    """A check of an option's value against its choices, before the command runs (reading a
    corpus can take minutes: its options are checked before any of it is read)."""

    def check(value):
        if value is not None and fold_case:
            value = value.lower()
        if value is not None and value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return check


def _between_0_and_1(value: float) -> float:
    if not 0.0 < value < 1.0:
        raise typer.BadParameter(f"{value} is not between 0 and 1 (both excluded)")
    return value



def _options(format: str, scheme, tag_column, token_prefix, n_sents, separator, annotation_format, on_overlap,
             fuzzy_threshold, limit) -> dict:
    if format == "conll":
        return dict(scheme=scheme, tag_column=tag_column, token_prefix=token_prefix, n_sents=n_sents,
                    separator=separator, limit=limit)
    if format == "jsonl":
        return dict(annotation_format=annotation_format, on_overlap=on_overlap or "error", limit=limit)
    if format == "gliner":
        return dict(on_overlap=on_overlap or "error", limit=limit)
    if format == "raw":
        return dict(fuzzy_threshold=fuzzy_threshold, on_overlap=on_overlap or "keep_longest", limit=limit)
    if format == "hipe":
        return dict(scheme=scheme, limit=limit)
    # brat, pubtator, dygie, inline_xml: nested by nature, each keeps the longest by default.
    return dict(limit=limit) if on_overlap is None else dict(on_overlap=on_overlap, limit=limit)


def _check_writer_suffix(path: Path, what: str) -> None:
    if path.suffix not in WRITERS:  # (a folder is refused by typer already: dir_okay=False)
        raise UserInputError(f"{path}: {what} must end in one of {', '.join(WRITERS)}")


def _write(docs, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = WRITERS[path.suffix]
    if writer is None:
        DocBin(docs=docs, store_user_data=True).to_disk(path)
    else:
        writer(docs, path)
    msg.good(f"Wrote {len(docs)} docs, {sum(len(d.ents) for d in docs)} entities to {path}")


def _is_pipeline_folder(path: Path) -> bool:
    """A saved pipeline (config.cfg and meta.json), not a training run folder (config.cfg alone)."""
    return path.is_dir() and (path / "config.cfg").is_file() and (path / "meta.json").is_file()


def _check_outputs(inputs, outputs) -> None:
    """Files a command writes (`outputs`: {option: path or None}) never replace what it reads
    (`inputs`: files, and folders: no output lies inside a pipeline folder, while a run folder
    may take a plot or a report beside what is read from it), nor each other, nor lie below a
    file."""
    given = {name: Path(path) for name, path in outputs.items() if path is not None}
    sources = [Path(p).resolve() for p in inputs if p is not None and Path(p).exists()]
    for name, path in given.items():
        target = path.resolve()
        for source in sources:
            if target == source or (_is_pipeline_folder(source) and source in target.parents):
                raise UserInputError(f"{path}: {name} would be written over the input {source}; give another path")
        for other, other_path in given.items():
            if other != name and (target == other_path.resolve() or target in other_path.resolve().parents):
                raise UserInputError(f"{path}: {name} and {other} would be written to the same place")
        blocking = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            raise UserInputError(f"{path}: {name} lies below {blocking}, which is a file, not a folder")


def _image_path(value: Optional[Path]) -> Optional[Path]:
    """An option naming an image to write: a suffix matplotlib writes, checked before any work."""
    if value is None:
        return value
    formats = ("png", "svg", "pdf", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")
    if value.suffix.lower().lstrip(".") not in formats:
        raise typer.BadParameter(f"{value}: an image file name ending in one of .{', .'.join(formats)}")
    return value


def _check_copy_target(output: Path, inputs, outputs) -> None:
    """A command that writes a changed copy of a pipeline into OUTPUT: the checks of every
    output (never over or inside the pipeline it copies), and OUTPUT a new or empty folder or a
    pipeline to replace, never a file or a folder of other files."""
    _check_outputs(inputs, dict(outputs, OUTPUT=output))
    if output.exists() and not output.is_dir():
        raise UserInputError(f"{output}: exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not _is_pipeline_folder(output):
        raise UserInputError(f"{output}: a folder that holds files but no pipeline: give an empty or new folder")


def _inferred_format(path: Path) -> str:
    from .corpus.readers import infer_format

    format = infer_format(path)
    msg.info(f"Reading {path} as {format} (from what it holds; --format to choose)")
    return format


def _blank(lang: str):
    try:
        return spacy.blank(lang)
    except ImportError as err:  # no such language, or one whose tokenizer needs another package
        raise UserInputError(f"--lang {lang}: {str(err).strip().splitlines()[0]}") from None


@app.command()
def convert(
    input_path: Path = typer.Argument(..., exists=True, help="Corpus file (a BRAT corpus: a folder of .txt/.ann pairs)"),
    output_path: Path = typer.Argument(..., dir_okay=False, help="Output: .spacy, .jsonl, .json (GLiNER) or .conll"),
    format: Optional[str] = typer.Option(None, callback=_one_of(*FORMATS),
                                         help=f"Input format: {', '.join(FORMATS)} (default: from what the file holds)"),
    lang: str = typer.Option("en", help="Language of the tokenizer for text formats"),
    scheme: str = typer.Option("iob2", callback=_one_of(*sorted(SCHEMES), fold_case=True),
                               help="conll: iob1, iob2, bioes or biluo"),
    tag_column: int = typer.Option(-1, help="conll: column of the tag (-1 last, 0 first)"),
    token_prefix: str = typer.Option("", help="conll: prefix to strip from each token (WikiANN: 'en:')"),
    n_sents: int = typer.Option(1, min=1, help="conll: sentences per Doc"),
    separator: Optional[str] = typer.Option(None, help="conll: column separator (default: spaces and tabs)"),
    annotation_format: str = typer.Option("auto", callback=_one_of("auto", "tokens", "text"),
                                          help="jsonl: read 'tokens' + token_spans or 'text' + char_spans "
                                               "(auto: tokens where a record has them)"),
    on_overlap: Optional[str] = typer.Option(
        None, callback=_one_of("error", "keep_longest"),
        help="error, or keep_longest in doc.ents (all kept in doc.spans['sc']); default: error for jsonl and "
             "gliner, keep_longest for the others"),
    fuzzy_threshold: float = typer.Option(90.0, min=0.0, max=100.0,
                                          help="raw: rapidfuzz score (0-100) for mentions not found exactly"),
    limit: int = typer.Option(0, min=0, help="Read at most this many sentences/examples (0: all)"),
    dev_output: Optional[Path] = typer.Option(None, dir_okay=False, help="Also write a dev split here"),
    dev_ratio: float = typer.Option(0.1, callback=_between_0_and_1,
                                    help="Share of examples for --dev-output (between 0 and 1)"),
    seed: int = typer.Option(0, help="Seed of the dev split"),
):
    """Convert a corpus file to .spacy (or JSONL, GLiNER JSON, CoNLL)."""
    _check_writer_suffix(output_path, "the output")
    if dev_output:
        _check_writer_suffix(dev_output, "--dev-output")
    _check_outputs([input_path], {"OUTPUT": output_path, "--dev-output": dev_output})
    nlp = _blank(lang)
    format = format or _inferred_format(input_path)
    options = _options(format, scheme, tag_column, token_prefix, n_sents, separator, annotation_format,
                       on_overlap, fuzzy_threshold, limit)
    docs = read_docs(input_path, nlp, format, **options)
    if dev_output:
        docs, dev = train_dev_split(docs, dev_ratio, seed)
        _write(dev, dev_output)
    _write(docs, output_path)


@app.command()
def evaluate(
    model: str = typer.Argument(..., help="Pipeline name or folder"),
    data: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold data: .spacy, or a corpus file with --format"),
    output: Path = typer.Option(Path("test_results.json"), dir_okay=False, help="Where to write the scores (JSON)"),
    displacy_page: Optional[Path] = typer.Option(None, dir_okay=False, help="Write an HTML page of sample predictions here"),
    displacy_limit: int = typer.Option(50, min=0, help="Examples on the HTML page"),
    format: Optional[str] = typer.Option(None, callback=_one_of(*FORMATS),
                                         help="Format of DATA when it is not .spacy (default: from what it holds)"),
    batch_size: int = typer.Option(64, min=1, help="nlp.pipe batch size"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
    reliability_diagram: Optional[Path] = typer.Option(
        None, dir_okay=False, callback=_image_path,
        help="Write the reliability diagram of the entity scores here (PNG; pipelines that score entities)"),
):
    """Entity-level precision, recall and F1 (micro, macro, per type) of a pipeline on gold data,
    and the expected calibration error of its entity scores."""
    _check_outputs([model, data], {"--output": output, "--displacy-page": displacy_page,
                                   "--reliability-diagram": reliability_diagram})
    use_gpu(gpu_id)
    nlp = load_pipeline(model)
    if data.suffix != ".spacy":
        format = format or _inferred_format(data)
    examples = load_examples(nlp, data, format, {})
    if not examples:
        raise UserInputError(f"{data}: holds no docs with tokens: nothing to evaluate")
    warn_if_no_shared_types(nlp, examples, str(model), str(data))
    result, scored = evaluate_pipeline(nlp, examples, batch_size)
    result["config"] = {"model": str(model), "data": str(data), "pipeline": nlp.pipe_names,
                        "docs": len(examples), "batch_size": batch_size, "gpu_id": gpu_id}
    print_table(result, f"{model} on {data}")
    calibration = result["calibration"]
    if calibration:
        msg.info(f"Expected calibration error of the {calibration['entities']} predicted entities' scores: "
                 f"{100 * calibration['ece']:.2f} (10 bins)")
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, result)
    msg.good(f"Scores written to {output}")
    if reliability_diagram:
        if not calibration:
            msg.warn(f"No reliability diagram: the entities of {model} carry no scores")
        else:
            from .evaluation.plots import plot_reliability_diagram

            plot_reliability_diagram({Path(str(model)).name: calibration}, reliability_diagram,
                                     title=f"Reliability diagram: {Path(str(model)).name} on {data.name}")
            msg.good(f"Reliability diagram written to {reliability_diagram}")
    if displacy_page:
        from .evaluation.display import write_page

        write_page(scored, displacy_page, displacy_limit)
        msg.good(f"Sample predictions written to {displacy_page}")


@app.command("tune-thresholds")
def tune_thresholds(
    model: str = typer.Argument(..., help="A trained pipeline with span_ner or contrastive_ner"),
    dev_data: Path = typer.Argument(..., exists=True, dir_okay=False, help="Dev data (.spacy): never the test set"),
    output: Path = typer.Argument(..., help="Folder for the tuned copy of the pipeline"),
    component: Optional[str] = typer.Option(None, help="Component to tune (default: the first with thresholds)"),
    per_type: bool = typer.Option(True, "--per-type/--global-only", help="Tune a threshold per type, or one for all"),
    calibrate: bool = typer.Option(False, "--calibrate", help="First fit a temperature that lowers dev ECE"),
    batch_size: int = typer.Option(64, min=1, help="Docs per batch"),
    summary_json: Optional[Path] = typer.Option(None, "--summary", dir_okay=False, help="Also write before/after as JSON here"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
):
    """Thresholds (per type, or one) that maximize dev F1, and optionally a calibration
    temperature, written into a copy of the pipeline; prints dev F1 and ECE before and after."""
    from .evaluation.threshold_tuning import apply_setting, tune

    _check_copy_target(output, [model, dev_data], {"--summary": summary_json})
    use_gpu(gpu_id)
    nlp = load_pipeline(model)
    if component is None:
        component = next((name for name, pipe in nlp.pipeline if hasattr(pipe, "predict_logits")), None)
        if component is None:
            raise UserInputError(f"{model} has no span_ner or contrastive_ner component: nothing to tune")
    elif component not in nlp.pipe_names:
        raise UserInputError(f"{model} has no component {component!r}; it has {', '.join(nlp.pipe_names)}")
    examples = load_examples(nlp, dev_data, None, {})
    result = tune(nlp, examples, component, calibrate=calibrate, per_type=per_type, batch_size=batch_size,
                  source=str(dev_data))
    if "int8_quantizer" in nlp.pipe_names:
        # Thresholds found on the int8 scores go into the float weights, with the same quantizer:
        # the int8 version itself cannot be saved.
        keep_float = nlp.get_pipe("int8_quantizer").keep_float
        nlp = load_pipeline(model, exclude=["int8_quantizer"])
        nlp.add_pipe("int8_quantizer", last=True, config={"keep_float": keep_float})
    apply_setting(nlp, component, result.after)
    nlp.to_disk(output)

    def row(name, setting, outcome):
        overrides = ", ".join(f"{k} {v:.2f}" for k, v in sorted(setting.thresholds.items())) or "-"
        return (name, f"{setting.threshold:.2f}", overrides, f"{setting.temperature:.3f}", f"{100 * outcome.precision:.2f}",
                f"{100 * outcome.recall:.2f}", f"{100 * outcome.f1:.2f}", "-" if math.isnan(outcome.ece) else f"{100 * outcome.ece:.2f}")

    global_setting = type(result.after)(result.global_threshold, {}, result.after.temperature)
    msg.table([row("before", result.before, result.before_dev), row("global", global_setting, result.global_dev),
               row("tuned", result.after, result.after_dev)],
              header=("dev", "threshold", "per type", "temperature", "P", "R", "F1", "ECE"), divider=True,
              title=f"{component} of {model} on {dev_data}")
    if summary_json:
        summary_json.parent.mkdir(parents=True, exist_ok=True)
        srsly.write_json(summary_json, dict(result.to_dict(), model=str(model), dev_data=str(dev_data), output=str(output)))
    msg.good(f"Tuned copy written to {output}")


@app.command()
def quantize(
    model: str = typer.Argument(..., help="A trained pipeline (float weights)"),
    output: Path = typer.Argument(..., help="Folder for the copy that loads int8-quantized"),
    keep_float: List[str] = typer.Option([], help="Leave the Linear layers whose whole name matches this regular "
                                         "expression in float (repeat; default: the feed-forward down projections)"),
    all_layers: bool = typer.Option(False, "--all-layers", help="Quantize every Linear layer (faster, less accurate)"),
):
    """A copy of a pipeline that int8-quantizes its torch Linear layers (transformer and heads)
    when it is loaded, for CPU inference. The copy holds the float weights; on a GPU it refuses
    to load: use the original there."""
    _check_copy_target(output, [model], {})
    nlp = load_pipeline(model)
    if "int8_quantizer" in nlp.pipe_names:
        raise UserInputError(f"{model} quantizes itself already (it has an int8_quantizer)")
    if all_layers and keep_float:
        raise UserInputError("--all-layers and --keep-float contradict each other: give one")
    config = {"keep_float": []} if all_layers else ({"keep_float": keep_float} if keep_float else {})
    nlp.add_pipe("int8_quantizer", last=True, config=config)
    nlp.to_disk(output)
    msg.good(f"Wrote {output}: spacy.load() gives its int8 version ({', '.join(nlp.pipe_names)})")


@app.command("export-onnx")
def export_onnx(
    model: str = typer.Argument(..., help="A trained transformer + span_ner / contrastive_ner pipeline (float)"),
    output: Path = typer.Argument(..., help="Folder for the copy that runs ONNX graphs with onnxruntime"),
    int8: bool = typer.Option(False, "--int8", help="int8 graphs (onnxruntime's dynamic quantization, int8 weights "
                              "per output channel): every layer, unless --keep-float"),
    keep_float: List[str] = typer.Option([], help="--int8: leave the layers whose whole torch name matches this "
                                         "regular expression in float (repeat), e.g. the feed-forward down "
                                         "projections: '(.*\\.)?layer\\.\\d+\\.output\\.dense'"),
):
    """A copy of a pipeline whose transformer and scoring heads run as ONNX graphs on CPU (needs
    `pip install "spacy-ner-ext[onnx]"`); `spacy.load(OUTPUT)` loads it. The type encoder stays
    torch, so new types can still be described after export."""
    _check_copy_target(output, [model], {})
    if keep_float and not int8:
        raise UserInputError("--keep-float chooses the int8 graphs' float layers: give --int8 too")
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise UserInputError('export-onnx needs onnxruntime and onnx: pip install "spacy-ner-ext[onnx]"') from None
    from .onnx.pipeline_copy import export_pipeline

    nlp = load_pipeline(model)
    for name in ("int8_quantizer", "onnx_runtime"):
        if name in nlp.pipe_names:
            raise UserInputError(f"{model} has an {name}: export the float pipeline it was made from")
    info = export_pipeline(nlp, output, int8=int8, keep_float=keep_float)
    msg.table([(name, f"{g['bytes'] / 1e6:.1f} MB", f"{g['float_max_abs_difference']:.1e}",
                len(g.get("float_nodes", []))) for name, g in info["graphs"].items()],
              header=("graph", "size", "float vs torch (max abs)", "float nodes"))
    msg.good(f"Wrote {output}: spacy.load() runs its {'int8' if int8 else 'float'} ONNX graphs with onnxruntime")


@app.command()
def benchmark(
    models: List[str] = typer.Argument(..., help="Pipelines to measure side by side"),
    data: Path = typer.Option(..., exists=True, dir_okay=False, help="Text to run (.spacy)"),
    output: Path = typer.Option(Path("results/benchmark.json"), dir_okay=False, help="JSON results"),
    batch_size: int = typer.Option(64, min=1, help="nlp.pipe batch size"),
    max_words: int = typer.Option(0, min=0, help="Use at most this many words (0: all)"),
    config: List[Path] = typer.Option([], exists=True, dir_okay=False, help="Also time training with these configs"),
    train_steps: int = typer.Option(20, min=1, help="Training steps to time per config"),
    train_data: Optional[Path] = typer.Option(None, help="Training data for --config (default: its paths.train)"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
    threads: int = typer.Option(0, min=0, help="torch threads (0: torch's default)"),
):
    """Inference words/s and peak memory of pipelines (and training words/s of configs), each
    measured in its own process, written side by side to one JSON file."""
    from .experiments.benchmark import inference_worker, machine_info, run_isolated, training_worker

    _check_outputs([*models, data, *config, train_data], {"--output": output})
    if data.suffix != ".spacy" or (train_data is not None and train_data.suffix != ".spacy"):
        raise UserInputError(f"{data if data.suffix != '.spacy' else train_data}: the benchmark reads .spacy files "
                             "(python -m spacy_ner_ext convert makes one)")
    for model in models:  # before any measuring: a pipeline that does not load fails here, in one line
        load_pipeline(model)
    results = {"machine": machine_info(), "inference": [], "training": []}
    for model in tqdm(models, desc="inference", unit="pipeline"):
        results["inference"].append(run_isolated(inference_worker, model, str(data), batch_size, max_words, gpu_id, threads))
    for cfg in tqdm(config, desc="training", unit="config"):
        overrides = {"paths.train": str(train_data), "paths.dev": str(train_data)} if train_data else {}
        results["training"].append(run_isolated(training_worker, str(cfg), train_steps, overrides, gpu_id, threads))
    first = results["inference"][0]["words_per_second"] if results["inference"] else None
    rows = [(r["model"], r["words"], r["words_per_second"], f"{r['words_per_second'] / first:.2f}x" if first else "",
             r["load_seconds"], r["peak_rss_mb"], r.get("ents_f", "")) for r in results["inference"]]
    cpu = results["machine"]
    msg.table(rows, header=("pipeline", "words", "words/s", "vs first", "load s", "peak MB", "ents F"), divider=True,
              title=f"Inference on {cpu['cpu_model']} ({cpu['cpus_available']} CPUs; "
                    f"{', '.join(k for k, v in (cpu['isa'] or {}).items() if v) or 'ISA flags unknown'})")
    if results["training"]:
        rows = [(r["config"], r["steps"], r["words_per_second"], r["peak_rss_mb"]) for r in results["training"]]
        msg.table(rows, header=("config", "steps", "words/s", "peak MB"), divider=True, title="Training")
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, results)
    msg.good(f"Results written to {output}")


def _read_dataset_split(path: Path, format: Optional[str], lang: str = "en", **options):
    from .evaluation.evaluate import read_gold_docs

    return read_gold_docs(path, spacy.blank(lang), format, options)


@app.command()
def fewshot(
    configs: List[Path] = typer.Argument(..., exists=True, help="Configs to compare on the same samples"),
    train_data: Path = typer.Option(..., exists=True, dir_okay=False, help="Pool to sample from (.spacy)"),
    test_data: Path = typer.Option(..., exists=True, dir_okay=False, help="Test set (.spacy)"),
    k: List[int] = typer.Option([5, 10, 20, 50], min=1, help="Examples per type"),
    seed: List[int] = typer.Option([0, 1, 2], help="Sampling and training seeds"),
    steps: int = typer.Option(100, min=1, help="Training steps per run"),
    descriptions: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                                help="Descriptions of the dataset's types"),
    output: Path = typer.Option(Path("results/fewshot.json"), dir_okay=False, help="JSON results"),
    backbone: Optional[str] = typer.Option(None, help="Override the transformer of every config"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
    jobs: int = typer.Option(1, min=1, help="Runs at a time (each in its own process)"),
):
    """Train each config on K examples per type (several seeds) and score it: F1 mean and std."""
    _check_outputs([*configs, train_data, test_data, descriptions], {"--output": output})
    from .experiments.fewshot import run_fewshot

    overrides = {"components.transformer.model.name": backbone} if backbone else {}
    results = run_fewshot(configs, _read_dataset_split(train_data, None), _read_dataset_split(test_data, None),
                          k, seed, steps, overrides, descriptions, gpu_id, jobs)
    msg.table([(r["config"], r["k"], r["seeds"], f"{100 * r['f1_mean']:.2f}", f"{100 * r['f1_std']:.2f}")
               for r in results["summary"]], header=("config", "K", "seeds", "F1 mean", "F1 std"), divider=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, results)
    msg.good(f"Results written to {output}")


@app.command()
def zeroshot(
    model: str = typer.Argument(..., help="A trained pipeline with span_ner or contrastive_ner"),
    data: Path = typer.Argument(..., exists=True, dir_okay=False, help="Test set of another dataset (.spacy)"),
    descriptions: Path = typer.Option(..., exists=True, dir_okay=False, help="That dataset's type descriptions (JSON)"),
    output: Path = typer.Option(Path("results/zeroshot.json"), dir_okay=False, help="JSON results"),
    as_names: bool = typer.Option(False, "--as-names", help="Give each type by its bare name in words (the file's "
                                  "labels: Restaurant_Name -> 'restaurant name'), not by its description"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
):
    """Score a pipeline on types it never saw, given only their descriptions (or names)."""
    from .experiments.fewshot import run_zeroshot

    _check_outputs([model, data, descriptions], {"--output": output})
    use_gpu(gpu_id)
    docs = _read_dataset_split(data, None)
    result = run_zeroshot(model, docs, descriptions, as_names=as_names)
    gold = {ent.label_ for doc in docs for ent in doc.ents}
    described = set(result["config"]["labels"])
    if gold and not gold & described:
        msg.warn(f"{data} and {descriptions} share no entity type: gold types {', '.join(sorted(gold))}; described "
                 f"{', '.join(sorted(described))}. Every score below is 0.")
    print_table(result, f"zero-shot: {model} on {data}")
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, result)
    msg.good(f"Results written to {output}")


@app.command()
def ablation(
    config: Path = typer.Argument(Path("configs/token_softmax.cfg"), exists=True, dir_okay=False,
                                  help="Config whose loss is swapped"),
    test_data: Path = typer.Option(..., exists=True, dir_okay=False, help="Test set (.spacy)"),
    loss: List[str] = typer.Option(["cross_entropy", "label_smoothing", "focal", "dice", "embedding_label_smoothing",
                                    "ce+soft_iou"],
                                   help="Losses to compare (names in spacy_ner_ext.ablation.LOSSES)"),
    steps: int = typer.Option(500, min=1, help="Training steps per loss"),
    component: str = typer.Option("token_ner", help="Component whose loss is replaced"),
    train_data: Optional[Path] = typer.Option(None, help="Override paths.train"),
    dev_data: Optional[Path] = typer.Option(None, help="Override paths.dev"),
    output: Path = typer.Option(Path("results/ablation.json"), dir_okay=False, help="JSON table"),
    chart: Path = typer.Option(Path("results/ablation.png"), dir_okay=False, callback=_image_path,
                               help="Bar chart (PNG)"),
    backbone: Optional[str] = typer.Option(None, help="Override the transformer"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
    jobs: int = typer.Option(1, min=1, help="Runs at a time (each in its own process)"),
):
    """Train one config with each loss for the same steps; F1 per loss and per type, JSON and PNG."""
    _check_outputs([config, test_data, train_data, dev_data], {"--output": output, "--chart": chart})
    from .evaluation.plots import plot_ablation
    from .experiments.ablation import run_ablation

    overrides = {}
    if backbone:
        overrides["components.transformer.model.name"] = backbone
    if train_data:
        overrides["paths.train"] = str(train_data)
    if dev_data:
        overrides["paths.dev"] = str(dev_data)
    result = run_ablation(config, loss, test_data, steps, overrides, component, gpu_id, jobs)
    msg.table([(r["loss"], f"{100 * r['f1']:.2f}", r["words_per_second"], r["train_seconds"]) for r in result["rows"]],
              header=("loss", "test F1", "infer words/s", "train s"), divider=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, result)
    plot_ablation(result, chart)
    msg.good(f"Results written to {output} and {chart}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train(
    ctx: typer.Context,
    config: Path = typer.Argument(..., exists=True, dir_okay=False, help="Training config"),
    output: Path = typer.Argument(..., help="Output folder"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
):
    """`spacy train` (extra arguments are config overrides), leaving in OUTPUT a run.log of
    everything it printed (each line timestamped), the resolved config.cfg, TensorBoard events
    in OUTPUT/tensorboard and training_log.jsonl, beside model-best and model-last."""
    import shutil
    import sys

    from spacy.util import load_config

    from .training.run_log import log_overrides, run_logged

    output.mkdir(parents=True, exist_ok=True)
    # spaCy's train, run by this CLI's hidden `spacy-train` so that bad input met while reading
    # the corpora (this package's readers) is one line too, not a traceback.
    command = [sys.executable, "-m", "spacy_ner_ext", "spacy-train", str(config), "--output", str(output),
               "--gpu-id", str(gpu_id)]
    for key, value in log_overrides(load_config(config), output).items():
        if f"--{key}" not in ctx.args:
            command += [f"--{key}", value]
    command += list(ctx.args)
    code = run_logged(command, output / "run.log")
    if (output / "model-last" / "config.cfg").exists():
        shutil.copy(output / "model-last" / "config.cfg", output / "config.cfg")
    raise typer.Exit(code)


@app.command("spacy-train", hidden=True, add_help_option=False,
             context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def spacy_train(ctx: typer.Context):
    """`spacy train` with its arguments, in this process: this CLI's one-line errors for bad
    input (a corpus line this package's readers cannot read), spaCy's behaviour for the rest."""
    from spacy.cli import app as spacy_app

    spacy_app(["train", *ctx.args], prog_name="spacy", standalone_mode=False)


@app.command("export-tensorboard")
def export_tensorboard(
    log_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="TensorBoard log folder"),
    output: Path = typer.Argument(..., dir_okay=False, help="CSV file: run, step, metric, value, wall_time"),
):
    """Turn TensorBoard event files into a CSV table, one row per step and metric."""
    from .training.tensorboard_logger import export_csv

    _check_outputs([log_dir], {"OUTPUT": output})

    msg.good(f"Wrote {export_csv(log_dir, output)} rows to {output}")


@app.command("plot-curves")
def plot_curves(
    runs: List[Path] = typer.Argument(..., exists=True, file_okay=False, help="Training output folders"),
    output: Path = typer.Option(Path("results/training_curves.png"), dir_okay=False, callback=_image_path,
                                help="PNG file"),
):
    """Training loss and dev F1 by step for one or several runs."""
    from .evaluation.plots import plot_training_curves

    _check_outputs(runs, {"--output": output})

    plot_training_curves(runs, output)
    msg.good(f"Wrote {output}")


@app.command("plot-types")
def plot_types(
    results: List[str] = typer.Argument(..., help="NAME=path/to/test_results.json, one per pipeline"),
    output: Path = typer.Option(Path("results/per_type_f1.png"), dir_okay=False, callback=_image_path,
                                help="PNG file"),
):
    """Per-type test F1 of several pipelines side by side."""
    from .evaluation.plots import plot_per_type_f1

    pairs = {}
    for item in results:
        name, sep, path = item.partition("=")
        if not sep or not Path(path).exists():
            raise UserInputError(f"{item!r}: expected NAME=path/to/test_results.json of an existing file")
        pairs[name] = path
    _check_outputs(list(pairs.values()), {"--output": output})
    plot_per_type_f1(pairs, output)
    msg.good(f"Wrote {output}")


@app.command()
def report(
    run: Path = typer.Argument(..., exists=True, file_okay=False, help="Training output folder"),
    output: Optional[Path] = typer.Option(None, dir_okay=False, help="HTML file (default: RUN/report.html)"),
):
    """A one-page HTML report of a run: scores, plots, sample predictions, config."""
    from .evaluation.report import write_report

    if output is not None:
        if output.suffix.lower() not in (".html", ".htm"):
            raise UserInputError(f"{output}: the report is an HTML page: give a file name ending in .html")
        _check_outputs([p for p in run.iterdir() if p.suffix != ".html"], {"--output": output})

    msg.good(f"Wrote {write_report(run, output)}")


@app.command("annotate")
def annotate_command(
    model: str = typer.Argument(..., help="A pipeline folder or an installed pipeline package"),
    input_path: str = typer.Argument(..., help="A file, a folder of shards, or a glob (quoted)"),
    output: Path = typer.Argument(..., help="Output folder: one shard per input shard, manifest.json, errors.jsonl"),
    input_format: Optional[str] = typer.Option(None, callback=_one_of("jsonl", "txt", "parquet"),
                                               help="jsonl, txt or parquet (default: from each file's suffix)"),
    text_field: str = typer.Option("text", help="JSONL field / Parquet column of the text"),
    id_field: Optional[str] = typer.Option(None, help="JSONL field / Parquet column of the id, which every record "
                                                      "must then have (default: 'id' where there is one, else file:line)"),
    output_format: str = typer.Option("jsonl", callback=_one_of("jsonl", "parquet"), help="jsonl or parquet"),
    keep_text: bool = typer.Option(False, "--keep-text", help="Write the text beside the entities"),
    batch_size: int = typer.Option(64, min=1, help="nlp.pipe batch size (on Ray: rows per actor call)"),
    n_process: int = typer.Option(1, min=1, help="Processes (CPU, local runs)"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU (local runs)"),
    max_chars: int = typer.Option(1_000_000, min=1, help="Longer texts are errors, not annotated"),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record instead of listing it"),
    labels: Optional[str] = typer.Option(None, help="span_ner/contrastive_ner: the types to find, comma-separated"),
    descriptions: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                                help="span_ner/contrastive_ner: the types to find, as {label: description}"),
    ray: Optional[str] = typer.Option(None, "--ray", help="Run on Ray: 'local' starts one here; or a cluster address "
                                                           "(ray://host:10001, auto); RAY_ADDRESS is read too"),
    concurrency: int = typer.Option(1, min=1, help="Ray: pipeline actors"),
    num_cpus: float = typer.Option(1.0, min=0.01, help="Ray: CPUs per actor"),
    num_gpus: float = typer.Option(0.0, min=0.0, help="Ray: GPUs per actor"),
    records_per_unit: int = typer.Option(RECORDS_PER_UNIT, min=1, help="A shard with more records is annotated (and written) "
                                         "in parts of about this many, name-00000-of-000NN.jsonl, ...: the unit of work "
                                         "of a worker and of a resumed run"),
    summary_json: Optional[Path] = typer.Option(None, "--summary", dir_okay=False, help="Also write the counts and times as JSON here"),
):
    """Annotate a corpus with a trained pipeline, shard by shard: complete output shards, a
    manifest to resume from (run the same command again), bad records in errors.jsonl."""
    from .annotation.annotate import AnnotateOptions, annotate
    from .annotation.records import ReadOptions

    types = [label.strip() for label in labels.split(",")] if labels is not None else []
    if labels is not None and not all(types):
        raise UserInputError(f"--labels {labels!r}: an empty label; give the types comma-separated, as PER,LOC")
    if summary_json is not None:
        from .annotation.outputs import ERRORS, MANIFEST
        from .annotation.records import matches_input

        _check_outputs([], {"--summary": summary_json})
        if matches_input(input_path, summary_json) or summary_json.resolve().parent == output.resolve() and (
                summary_json.name in (MANIFEST, ERRORS) or summary_json.suffix in (".jsonl", ".parquet")):
            raise UserInputError(f"{summary_json}: --summary would be written over an input or an output file of the run")
    # No --id-field: "id" where a record has one. A named field is required; "" means no ids.
    read = ReadOptions(format=input_format, text_field=text_field, max_chars=max_chars,
                       id_field=("id" if id_field is None else id_field) or None, id_required=bool(id_field))
    options = AnnotateOptions(
        batch_size=batch_size, n_process=n_process, gpu_id=gpu_id, output_format=output_format, keep_text=keep_text,
        strict=strict, labels=types,
        descriptions=str(descriptions) if descriptions else None, ray_address=ray, concurrency=concurrency,
        num_cpus=num_cpus, num_gpus=num_gpus, records_per_unit=records_per_unit)
    summary = annotate(model, input_path, output, read, options,
                       progress=lambda **kw: tqdm(desc="annotate", disable=None, smoothing=0.1, **kw))
    if summary_json:
        import dataclasses

        srsly.write_json(summary_json, dataclasses.asdict(summary))
    msg.table([("shards", summary.shards), ("units of work", summary.units),
               ("units skipped (complete already)", summary.skipped),
               ("records in", summary.records_in), ("records out", summary.records_out), ("errors", summary.errors)],
              title=f"Annotated {input_path} into {output}")
    if summary.records_in and not summary.records_out:
        # Nothing annotated at all is a failed run, not a result: a --text-field that no record
        # has, a format that is not the files'.
        first = (output / "errors.jsonl").read_text(encoding="utf8").split("\n", 1)[0]
        reason = srsly.json_loads(first).get("reason") if first else "see errors.jsonl"
        raise UserInputError(f"{input_path}: no record could be annotated ({summary.errors} errors, the first: "
                             f"{reason}); see {output / 'errors.jsonl'}")
    if summary.errors:
        msg.warn(f"{summary.errors} records could not be annotated: see {output / 'errors.jsonl'}")


@app.command("benchmark-annotate")
def benchmark_annotate(
    models: List[str] = typer.Argument(..., help="Pipelines to measure side by side"),
    input_path: str = typer.Option(..., "--input", help="Input of annotate (a file, folder or glob)"),
    mode: List[str] = typer.Option(["plain", "n_process=2", "ray, 1 actor", "ray, 2 actors"],
                                   help="Ways to run: plain, n_process=2, 'ray, 1 actor', 'ray, 2 actors'"),
    batch_size: int = typer.Option(64, min=1, help="Batch size"),
    output: Path = typer.Option(Path("results/annotate_benchmark.json"), dir_okay=False, help="JSON results"),
):
    """records/s, words/s and peak memory per worker of `annotate`, in each way of running it."""
    from .experiments.annotate_benchmark import MODES, measure, relative_to_plain
    from .experiments.benchmark import machine_info

    unknown = [m for m in mode if m not in MODES]
    if unknown:
        raise UserInputError(f"unknown mode(s) {', '.join(unknown)}: choose from {', '.join(MODES)}")
    from .annotation.records import find_shards

    shards = find_shards(input_path)  # a missing input fails here, in one line, before any run
    _check_outputs([*shards, *models], {"--output": output})
    for model in models:
        check_pipeline_exists(model)
    rows = relative_to_plain([dict(measure(model, input_path, MODES[m], batch_size), mode=m)
                              for model in models for m in mode])
    msg.table([(r["model"], r["mode"], r["startup_seconds"], r["records_per_second"], r.get("vs_plain", ""),
                r["records_per_second_after_startup"], r.get("vs_plain_after_startup", ""),
                r["peak_rss_mb_driver"], r["peak_rss_mb_per_worker"]) for r in rows],
              header=("pipeline", "mode", "start s", "rec/s", "vs plain", "rec/s after start", "vs plain",
                      "driver MB", "worker MB"))
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, {"machine": machine_info(), "input": input_path, "batch_size": batch_size, "runs": rows})
    msg.good(f"Results written to {output}")


@app.command("export-universal")
def export_universal(
    model: str = typer.Argument(..., help="A pretrained transformer + span_ner pipeline (training/universal/model-tuned)"),
    output: Path = typer.Argument(Path("spacy_ner_ext/universal/weights"), file_okay=False,
                                  help="Folder for the weight files and their card"),
    manifest: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                            help="The mixture's manifest.json: its datasets and licences go on the card"),
    summary: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                           help="pretrain_summary.json: the pretraining's steps and cost go on the card"),
):
    """The weights the package ships (`load_universal`): what pretraining changed in the
    packaged MiniLM, as fp16 differences, and the span heads, in safetensors, with a JSON card
    and MODEL_CARD.md."""
    from .universal.model_card import read_json_or_none, training_card, write_model_card
    from .universal.shipped_weights import SIZE_CAP_BYTES, export_weights, shipped_size

    _check_outputs([model, manifest, summary], {"OUTPUT": output})
    nlp = load_pipeline(model)
    if "transformer" not in nlp.pipe_names or "span_ner" not in nlp.pipe_names:
        raise UserInputError(f"{model}: export-universal takes a transformer + span_ner pipeline, not {nlp.pipe_names}")
    card = export_weights(nlp, output, card=training_card(read_json_or_none(manifest), read_json_or_none(summary)))
    write_model_card(card, output / "MODEL_CARD.md")
    total, sizes = shipped_size(output)
    line = f"{total / 1e6:.2f} MB ({', '.join(f'{k} {v / 1e6:.2f}' for k, v in sizes.items())})"
    if total > SIZE_CAP_BYTES:
        msg.warn(f"{output}: {line}: over the {SIZE_CAP_BYTES / 1e6:.0f} MB the package may carry")
    msg.good(f"Wrote {output}: {len(card['changed_tensors'])} transformer tensors as differences, the span heads; {line}")


def _comma_separated(items: List[str]) -> List[str]:
    """A repeated option whose values may also be comma-separated lists ("" gives none)."""
    return [name.strip() for item in items for name in item.split(",") if name.strip()]


@app.command("build-mixture")
def build_mixture_command(
    output: Path = typer.Argument(Path("corpus/universal"), file_okay=False, help="Folder for train.spacy, dev.spacy, types.json, manifest.json"),
    data: Optional[Path] = typer.Option(None, file_okay=False, help="The data mirror (default: $SPACY_NER_EXT_DATA or ../shared/data)"),
    leave_out: List[str] = typer.Option([], help="A dataset kept out of the mixture entirely (repeat the option, "
                                        "or comma-separated); datasets sharing its texts go too"),
    non_commercial: str = typer.Option("include", help="include | exclude: the datasets whose licence forbids "
                                       "commercial use (the shipped weights exclude them)"),
    only: List[str] = typer.Option([], help="These datasets alone (repeat, or comma-separated; default: every "
                                   "registered one)"),
    alpha: float = typer.Option(0.5, min=0.0, help="Sampling temperature: a dataset's share is proportional to n ** alpha"),
    cap: int = typer.Option(8000, min=1, help="Train Docs per dataset, at most"),
    train_docs: int = typer.Option(100000, min=1, help="Train Docs of the whole mixture, at most"),
    dev_docs: int = typer.Option(20, min=0, help="Dev Docs per dataset"),
    max_words: int = typer.Option(256, min=8, help="Longer passages are cut into Docs of at most this many tokens"),
    seed: int = typer.Option(0, help="Seed of the sampling"),
    test_docs: int = typer.Option(0, min=0, help="Docs per left-out test set, the first ones (0: all; small runs)"),
    mapping: Path = typer.Option(Path("corpus/descriptions/type_mapping.json"), exists=True, dir_okay=False,
                                 help="Corpus labels -> universal types"),
    descriptions: Path = typer.Option(Path("corpus/descriptions"), file_okay=False,
                                      help="Folder of <dataset>.json descriptions"),
):
    """The many-type training mixture from the public corpora of the data mirror: one Doc per
    sentence or passage, each recording the types its source annotates, sampled across datasets."""
    from .corpus.datasets import find_mirror
    from .mixture.build import MixtureSettings, build_mixture
    from .mixture import registry  # noqa: F401  (fills SOURCES)
    from .mixture.sources import SOURCES

    mirror = find_mirror(data)
    if mirror is None:
        raise UserInputError("no data mirror: pass --data, set $SPACY_NER_EXT_DATA, or put the corpora in ../shared/data")
    _check_outputs([mirror, mapping, descriptions], {"OUTPUT": output})
    only, leave_out = _comma_separated(only), _comma_separated(leave_out)
    if non_commercial not in ("include", "exclude"):
        raise UserInputError(f"--non-commercial must be include or exclude, not {non_commercial!r}")
    settings = MixtureSettings(leave_out=tuple(leave_out), exclude_non_commercial=non_commercial == "exclude",
                               alpha=alpha, cap=cap, train_docs=train_docs, dev_docs=dev_docs,
                               max_words=max_words, seed=seed, only=tuple(only), test_docs=test_docs)
    manifest = build_mixture(_blank("en"), mirror, output, mapping, descriptions, settings, SOURCES,
                             log=lambda line: msg.text(line))
    msg.good(f"{manifest['train_docs']} train and {manifest['dev_docs']} dev Docs ({manifest['train_words']} words, "
             f"{manifest['types']} types, {len(manifest['sources'])} datasets; left out: "
             f"{', '.join(manifest['left_out']) or 'none'}) in {output}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def pretrain(
    ctx: typer.Context,
    config: Path = typer.Argument(Path("configs/universal.cfg"), exists=True, dir_okay=False, help="Training config"),
    output: Path = typer.Argument(Path("training/universal"), file_okay=False, help="Output folder (checkpoints, model-last, model-best)"),
    max_steps: int = typer.Option(0, min=0, help="Steps in all, over every run (0: [training] max_steps)"),
    max_minutes: float = typer.Option(0.0, min=0.0, help="Training minutes in all, over every run (0: no limit)"),
    checkpoint_minutes: float = typer.Option(10.0, min=0.1, max=15.0, help="Minutes between checkpoints (at most 15)"),
    eval_every: int = typer.Option(0, min=0, help="Steps between dev evaluations (0: only at the end)"),
    log_every: int = typer.Option(10, min=1, help="Steps between progress lines"),
    snapshot_minutes: float = typer.Option(0.0, min=0.0, help="Keep the pipeline after every N training minutes "
                                           "(OUTPUT/model-at-<N>min), to compare runs at one budget (0: none)"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
):
    """Pretrain (or go on pretraining) a pipeline: the same command run again after a stop goes
    on from the last checkpoint, counting its steps on. Extra arguments are config overrides
    (`--paths.train ...`), read on the first run only."""
    from spacy.cli._util import parse_config_overrides

    from .training.pretrain import PretrainSettings, pretrain as run_pretrain

    _check_outputs([config], {"OUTPUT": output})
    overrides = parse_config_overrides(list(ctx.args))
    use_gpu(gpu_id)
    settings = PretrainSettings(max_steps=max_steps, max_minutes=max_minutes, checkpoint_minutes=checkpoint_minutes,
                                eval_every=eval_every, log_every=log_every, snapshot_minutes=snapshot_minutes)

    def log(line: str) -> None:
        print(line, flush=True)

    run_pretrain(config, output, overrides, settings, log=log)


@app.command("benchmark-pretraining", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def benchmark_pretraining(
    ctx: typer.Context,
    config: Path = typer.Argument(Path("configs/universal.cfg"), exists=True, dir_okay=False, help="The recipe"),
    lever: List[str] = typer.Option([], help="A lever to measure (repeat; default: all, see experiments/pretrain_levers.py)"),
    steps: int = typer.Option(30, min=2, help="Pretraining steps per lever"),
    output: Path = typer.Option(Path("results/pretrain_levers.json"), dir_okay=False, help="JSON results"),
):
    """Words/s and peak memory of a short pretraining for each lever of the recipe (which weights
    train, batching, span width, type encoder, foreign types), each in its own process. Extra
    arguments are config overrides for every run (`--paths.train ...`)."""
    from spacy.cli._util import parse_config_overrides

    from .experiments.benchmark import machine_info
    from .experiments.pretrain_levers import LEVERS, measure_levers

    _check_outputs([config], {"--output": output})
    result = measure_levers(config, lever or list(LEVERS), steps, parse_config_overrides(list(ctx.args)),
                            log=lambda line: msg.text(line))
    msg.table([(r["lever"], f"{r['words_per_second']:.0f}", r["speed_vs_recipe"], f"{r['peak_rss_mb']:.0f}")
               for r in result["levers"]], header=("lever", "words/s", "vs recipe", "peak MB"), divider=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, dict(result, machine=machine_info()))
    msg.good(f"Results written to {output}")


@app.command("compare-gliner")
def compare_gliner(
    mixture: Path = typer.Argument(Path("corpus/universal"), exists=True, file_okay=False,
                                   help="The mixture the shipped span_ner was pretrained on (build-mixture's folder; "
                                        "`spacy project run universal-mixture` builds it in corpus/universal)"),
    output: Path = typer.Option(Path("results/gliner"), file_okay=False,
                                help="Folder: the GLiNER model and checkpoints, one JSON per stage, comparison.md"),
    descriptions: Path = typer.Option(Path("corpus/descriptions"), file_okay=False,
                                      help="Folder of <dataset>.json descriptions of the left-out datasets"),
    speed_data: Path = typer.Option(Path("corpus/conll2003/test.spacy"), dir_okay=False,
                                    help="Texts for the speed stage (.spacy)"),
    long_test: Optional[Path] = typer.Option(None, dir_okay=False,
                                             help="Test set whose sentences make the long document (default: the "
                                                  "mixture's left-out BC5CDR)"),
    max_words: int = typer.Option(0, min=0, help="Training words (0: those of the shipped pretraining, its card)"),
    max_minutes: float = typer.Option(0, min=0, help="Training minutes (0: those of the shipped pretraining)"),
    schedule_words: int = typer.Option(0, min=0, help="Words the learning-rate schedule is planned for, when the "
                                       "minutes bind first: GLiNER's words/s times the minutes (0: the word budget)"),
    speed_words: int = typer.Option(20000, min=1, help="Words of speed_data for each speed measurement"),
    speed_types: List[int] = typer.Option(list((8, 64, 512)), help="Numbers of types in the speed stage"),
    dev_limit: int = typer.Option(0, min=0, help="At most this many dev Docs for the threshold (0: all)"),
    test_docs: int = typer.Option(0, min=0, help="At most this many Docs of each left-out test set, the first, both "
                                  "systems on the same (0: all; GLiNER reads a few hundred words/s on 2 CPU cores)"),
    batch_size: int = typer.Option(32, min=1, help="Texts per batch at prediction, both systems"),
    train_batch_size: int = typer.Option(32, min=1, help="GLiNER's records per training batch (its peak memory "
                                         "grows with it: 18 GB at 32 on the shipped mixture)"),
    seed: int = typer.Option(0, help="Seed of the records' type texts and of GLiNER's training"),
    name_probability: float = typer.Option(1.0, min=0.0, max=1.0,
                                           help="How often a type is shown by its name in training, else by one of "
                                                "its descriptions (GLiNER's recipe: names; each description costs "
                                                "encoder tokens in every record that shows it)"),
):
    """GLiNER (the `gliner` library, needs `pip install -e '.[gliner]'`) trained on the same mixture,
    backbone and budget as the shipped span_ner, both scored zero-shot on the left-out datasets
    (types by name and by description) with this project's scorer, their speed at 8, 64 and 512
    types, and a long document. Resumable: a rerun goes on from the last stage (and checkpoint)."""
    from .experiments.gliner_comparison import run_comparison, shipped_budget
    from .gliner_baseline.model import require_gliner

    require_gliner()
    for needed in ("train.spacy", "dev.spacy", "types.json", "manifest.json"):
        if not (mixture / needed).is_file():
            raise UserInputError(f"{mixture}: no {needed}; build the shipped model's mixture first (python -m "
                                 f"spacy project run universal-mixture: corpus/universal)")
    # Checked here, after the mixture, rather than by typer's exists=True: a default path missing on a
    # fresh clone would otherwise end in a usage error about an option the user never gave.
    if not descriptions.is_dir():
        raise UserInputError(f"{descriptions}: no such folder of descriptions (give --descriptions)")
    if not speed_data.is_file():
        raise UserInputError(f"{speed_data}: no such file for the speed stage (python -m spacy project run "
                             f"corpus builds it, or give --speed-data)")
    budget = shipped_budget()
    if max_words:
        budget["words"] = max_words
    if max_minutes:
        budget["minutes"] = max_minutes
    if schedule_words:
        budget["schedule_words"] = schedule_words
    long_test = long_test or mixture / "left_out" / "bc5cdr" / "test.spacy"
    if not long_test.is_file():
        raise UserInputError(f"{long_test}: no such file (give --long-test)")
    summary = run_comparison(mixture, output, descriptions_dir=descriptions, speed_data=speed_data,
                             long_test=long_test, budget=budget, seed=seed, batch_size=batch_size,
                             name_probability=name_probability,
                             speed_max_words=speed_words, dev_limit=dev_limit, speed_counts=speed_types,
                             test_docs=test_docs, train_settings={"batch_size": train_batch_size},
                             log=lambda line: msg.text(line))
    print((output / "comparison.md").read_text(encoding="utf8"))
    msg.good(f"Results written to {output / 'comparison.json'} and {output / 'comparison.md'}")


if __name__ == "__main__":
    app()
