"""onnx_runtime: the last component of a pipeline copy written by `export-onnx`. When the copy
is loaded, it replaces the transformer and the scorers of span_ner / contrastive_ner by
onnxruntime sessions over the ONNX graphs in its folder (float or int8), so that the pipeline
runs them on CPU; everything else (tokenization, the type encoder, decoding) is unchanged.

Like int8_quantizer, it changes no Doc (`__call__` returns the doc as it is), it must come after
every component it replaces a model of, and a pipeline holding it refuses to be saved again with
its graphs swapped in (export again from the float pipeline instead).
"""
import shutil
import weakref
from pathlib import Path
from typing import Dict, Iterable, Optional, Union

import srsly
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc

from ..errors import DamagedPipelineError, UserInputError

GRAPHS = "graphs.json"


@Language.factory("onnx_runtime", default_config={"threads": 0}, assigns=[], requires=[])
def make_onnx_runtime(nlp: Language, name: str, threads: int) -> "OnnxRuntime":
    return OnnxRuntime(nlp, name, threads=threads)


def _refuse_to_save(*args, **kwargs):
    raise UserInputError("This pipeline runs ONNX graphs in place of its torch models and cannot be saved: save "
                         "the float pipeline, and run export-onnx on it again")


class OnnxRuntime:
    def __init__(self, nlp: Language, name: str = "onnx_runtime", *, threads: int = 0):
        self._nlp = weakref.ref(nlp)  # the pipeline holds this component, not the other way round
        self.name = name
        self.threads = threads
        self.graphs: Dict[str, str] = {}  # component -> graph file name in this component's folder
        self.info: Dict = {}
        self._folder: Optional[Path] = None

    def __call__(self, doc: Doc) -> Doc:
        return doc

    def swap_in(self, folder: Path) -> None:
        """Replace the torch models by sessions over the graphs in `folder`."""
        from .export import export_targets
        from .ort_modules import OrtScorer, OrtTransformer, new_session

        nlp = self._nlp()
        if nlp.pipe_names[-1] != self.name:
            raise UserInputError(f"{self.name} must be the last component; the pipeline is {nlp.pipe_names}")
        transformer, scorers = export_targets(nlp)
        device = next((p.device for p in transformer._model.parameters()), None)
        if device is not None and device.type != "cpu":
            # The sessions run on the CPU and hand back CPU arrays, which a GPU pipeline cannot mix in.
            raise UserInputError(f"{self.name} runs its ONNX graphs on the CPU, and this pipeline is on {device}: "
                                 "load the float pipeline it was exported from for GPU inference")
        for component in self.graphs:
            if component != "transformer" and component not in scorers:
                raise DamagedPipelineError(f"{folder}: a graph for {component!r}, which the pipeline has no scorer of")
        for component, file_name in self.graphs.items():
            path = folder / file_name
            if not path.is_file():
                raise DamagedPipelineError(f"{path}: missing: export the pipeline again")
            try:
                session = new_session(str(path), self.threads)
            except Exception as err:  # onnxruntime raises its own error types
                raise DamagedPipelineError(f"{path}: damaged ONNX graph ({str(err).splitlines()[0]})") from None
            shim = transformer if component == "transformer" else scorers[component]
            module = OrtTransformer(session) if component == "transformer" else OrtScorer(session)
            shim._model = module
            if component == "transformer":
                shim._hfmodel.transformer = module  # spacy-transformers reads its device there
            shim.to_bytes = _refuse_to_save
            shim.onnx_graph = file_name
        self._folder = folder

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = util.ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self._folder is not None and self._folder.resolve() != path.resolve():
            for file_name in self.graphs.values():
                shutil.copyfile(self._folder / file_name, path / file_name)
        srsly.write_json(path / GRAPHS, {"graphs": self.graphs, "info": self.info})

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "OnnxRuntime":
        # Called after every other component has read its weights (components load in order).
        path = util.ensure_path(path)
        try:
            saved = srsly.read_json(path / GRAPHS)
        except (OSError, ValueError) as err:
            raise DamagedPipelineError(f"{path / GRAPHS}: missing or damaged ({err})") from None
        self.graphs, self.info = saved["graphs"], saved.get("info", {})
        self.swap_in(path)
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        raise UserInputError("onnx_runtime keeps its graphs as files: save the pipeline with nlp.to_disk")

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()) -> "OnnxRuntime":
        raise UserInputError("onnx_runtime keeps its graphs as files: load the pipeline with spacy.load(folder)")
