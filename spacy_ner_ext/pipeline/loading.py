"""`spacy.load` for the commands: a pipeline that is missing, or whose files are damaged,
fails with one line naming the file, at load time.

This package's components name their damaged files themselves (DamagedPipelineError). For
the others (spaCy's tokenizer and vocab, spacy-transformers' `transformer`, token_ner's
TrainablePipe files) a failed load is followed by reading each file of the pipeline folder
as what it is (JSON, msgpack, safetensors, the config), and the first one that does not read
is named."""
from pathlib import Path
from typing import Iterator, Optional, Union

import spacy
import srsly
from spacy.language import Language

from ..errors import DamagedPipelineError, UserInputError


def use_gpu(gpu_id: int) -> None:
    """spacy.require_gpu(gpu_id) for gpu_id >= 0, with a one-line error where there is none."""
    if gpu_id >= 0:
        try:
            spacy.require_gpu(gpu_id)
        except ValueError as err:  # no CuPy, or no such device
            raise UserInputError(f"--gpu-id {gpu_id}: {str(err).strip().splitlines()[0]} (install spacy-ner-ext[gpu] "
                                 "and a CUDA build of torch, or run on the CPU with --gpu-id -1)") from None


def check_pipeline_exists(model: Union[str, Path]) -> None:
    """A pipeline folder (with its config.cfg) or an installed pipeline package, without loading it."""
    name = str(model)
    path = Path(name)
    if path.exists():
        if not path.is_dir() or not (path / "config.cfg").is_file():
            raise UserInputError(f"{name}: not a spaCy pipeline folder (no config.cfg)")
    elif not spacy.util.is_package(name):
        raise UserInputError(f"{name}: no such pipeline folder or installed package")


def load_pipeline(model: Union[str, Path], **kwargs) -> Language:
    """spacy.load(model, **kwargs), with one-line errors (UserInputError) for what a user can fix."""
    check_pipeline_exists(model)
    name = str(model)
    path = Path(name)
    try:
        return spacy.load(name, **kwargs)
    except DamagedPipelineError:
        raise
    except Exception as err:  # whatever the component's reader raised
        folder = path if path.exists() else spacy.util.get_package_path(name)
        damaged = first_unreadable_file(folder)
        reason = _first_line(err)
        if damaged is not None:
            file, problem = damaged
            raise DamagedPipelineError(f"{file}: damaged: {problem}") from err
        raise DamagedPipelineError(f"{folder}: the pipeline cannot be loaded: {reason}") from err


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def _pipeline_files(folder: Path) -> Iterator[Path]:
    """The config and meta first, then each component's folder in pipeline order."""
    yield folder / "config.cfg"
    yield folder / "meta.json"
    names = []
    try:
        names = list(srsly.read_json(folder / "meta.json").get("pipeline", []))
    except Exception:
        pass
    for sub in [folder / n for n in names] + [folder / "tokenizer", folder / "vocab"]:
        if sub.is_file():
            yield sub
        elif sub.is_dir():
            yield from sorted(p for p in sub.rglob("*") if p.is_file())


def _read_problem(file: Path) -> Optional[str]:
    """Why `file` does not read as what its name says it is, or None if it reads (or its kind
    is not known here)."""
    name = file.name
    try:
        if name == "config.cfg":
            spacy.util.load_config(file)
        elif name == "cfg" or name.endswith(".json"):
            srsly.read_json(file)
        elif name in ("model", "tokenizer", "lookups.bin", "key2row"):
            srsly.msgpack_loads(file.read_bytes())
        elif name.endswith(".safetensors"):
            from safetensors.numpy import load_file

            load_file(str(file))
        else:
            return None
    except Exception as err:
        return f"cannot be read ({_first_line(err)})"
    return None


def first_unreadable_file(folder: Path) -> Optional[tuple]:
    """(file, problem) of the first file of the pipeline folder that does not read, or None."""
    for file in _pipeline_files(folder):
        if not file.exists():
            if file.name in ("config.cfg", "meta.json"):
                return file, "missing"
            continue
        problem = _read_problem(file)
        if problem:
            return file, problem
    return None
