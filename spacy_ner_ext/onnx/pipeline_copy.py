"""`export-onnx`: a copy of a pipeline that runs its transformer and scorers as ONNX graphs.

The copy is the float pipeline (its torch weights stay, for the type encoder and for anyone who
exports again) with `onnx_runtime` added last; that component's folder holds the graphs, float
or int8, and `spacy.load(copy)` swaps them in. Each graph is checked against the torch module it
came from on inputs of other shapes than the ones it was exported with, before the copy is kept.
"""
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence

import numpy
import torch
from spacy.language import Language

from . import onnx_runtime_component  # noqa: F401  (registers the factory)
from .export import (OnnxExportError, export_scorer, export_targets, export_transformer, quantize_graph,
                     scorer_inputs, transformer_inputs)

# Float graphs agree with torch to about 1e-5; a hundred times that is no rounding any more.
MAX_DIFFERENCE = 1e-3
SAMPLE_TEXTS = ["Marie Curie moved to Paris in 1891 and worked at the University of Paris.", "Hello.",
                "Apple and Google opened offices in New York , London and Berlin last year ."]


def _scorer_input_widths(nlp: Language, scorers) -> Dict[str, tuple]:
    """(token width, type width) each scorer is called with, seen by running the pipeline once."""
    seen = {}

    def hook_for(name):
        def note_widths(module, args, output):  # returns None: the output stays as it is
            seen.setdefault(name, (args[0].shape[-1], args[1].shape[-1]))
        return note_widths

    hooks = [shim._model.register_forward_hook(hook_for(name)) for name, shim in scorers.items()]
    try:
        list(nlp.pipe(SAMPLE_TEXTS))
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def _max_difference(session_path: Path, module, inputs: Dict[str, torch.Tensor]) -> float:
    from .ort_modules import new_session

    outputs = new_session(str(session_path)).run(None, {k: v.numpy() for k, v in inputs.items()})
    # Thinc leaves its torch modules in training mode between calls: dropout off for the reference.
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            expected = module(*inputs.values())
    finally:
        module.train(was_training)
    if hasattr(expected, "last_hidden_state"):  # a Hugging Face ModelOutput
        expected = [expected.last_hidden_state]
    expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
    if [o.shape for o in outputs] != [tuple(e.shape) for e in expected]:
        raise OnnxExportError(f"{session_path.name}: the graph's outputs are shaped {[o.shape for o in outputs]}, "
                              f"the torch module's {[tuple(e.shape) for e in expected]}: it cannot stand in for it")
    return max(float(numpy.abs(o - e.numpy()).max()) for o, e in zip(outputs, expected))


def export_pipeline(nlp: Language, output: Path, int8: bool = False, keep_float: Sequence[str] = ()) -> Dict:
    """Write the copy to `output`; returns what was exported (graphs, sizes, float layers, and
    the largest difference between each float graph and its torch module)."""
    transformer, scorers = export_targets(nlp)
    widths = _scorer_input_widths(nlp, scorers)
    # (name, torch module, its export, inputs of other shapes than the export's to check it on:
    # a dimension the trace froze shows there)
    targets: List = [("transformer", transformer._model, export_transformer,
                      lambda: transformer_inputs(transformer._model, 3, 13))]
    targets += [(name, shim._model, lambda module, path, name=name: export_scorer(module, path, widths[name]),
                 lambda name=name: scorer_inputs(widths[name], 3, 17, 5)) for name, shim in scorers.items()]
    info: Dict = {"int8": int8, "keep_float": list(keep_float), "graphs": {}}
    graphs: Dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, module, export, check_inputs in targets:
            float_path = tmp / f"{name}.float.onnx"
            export(module, float_path)
            difference = _max_difference(float_path, module, check_inputs())
            if not difference < MAX_DIFFERENCE:
                raise OnnxExportError(f"{name}: the exported graph differs from the torch module by {difference:.2g} "
                                      f"(more than {MAX_DIFFERENCE}): not kept")
            entry = {"float_max_abs_difference": difference}
            final = float_path
            if int8:
                final = tmp / f"{name}.int8.onnx"
                entry["float_nodes"] = quantize_graph(float_path, final, keep_float)
            graphs[name] = final.name
            entry["bytes"] = final.stat().st_size
            info["graphs"][name] = entry
        # The component writes its graphs (copied from here) and graphs.json with the pipeline.
        component = nlp.add_pipe("onnx_runtime", last=True)
        component.graphs, component.info, component._folder = graphs, info, tmp
        try:
            nlp.to_disk(output)
        finally:
            nlp.remove_pipe("onnx_runtime")
    return info
