"""torch modules that run an ONNX graph with onnxruntime, standing in for the torch modules they
were exported from inside the pipeline's Thinc shims: same call, same outputs (as torch tensors),
so spacy-transformers, the components and their decoding run unchanged."""
from typing import List, Tuple

import numpy
import torch
from transformers.modeling_outputs import BaseModelOutput


def new_session(path: str, threads: int = 0):
    """An onnxruntime CPU session; threads 0: as many as torch uses here (which follows
    OMP_NUM_THREADS, as Ray sets it for each actor), not onnxruntime's one per physical core,
    which N actors on one machine would multiply."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or torch.get_num_threads()
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class OrtModule(torch.nn.Module):
    """No parameters of its own: the weights live in the session."""

    def __init__(self, session):
        super().__init__()
        self.session = session
        self.input_names: List[str] = [i.name for i in session.get_inputs()]

    @property
    def device(self) -> torch.device:  # spacy-transformers asks its transformer for a device
        return torch.device("cpu")

    def train(self, mode: bool = True):  # the graph is inference only; dropout is off in it
        return super().train(False)


class OrtTransformer(OrtModule):
    """In place of the Hugging Face model that spacy-transformers calls with wordpiece ids."""

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids=None, **_):
        # copy=False: no copy per batch where the ids are int64 already (spacy-transformers' are).
        feeds = {"input_ids": input_ids.cpu().numpy().astype(numpy.int64, copy=False),
                 "attention_mask": attention_mask.cpu().numpy().astype(numpy.int64, copy=False)}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = (numpy.zeros_like(feeds["input_ids"]) if token_type_ids is None
                                       else token_type_ids.cpu().numpy().astype(numpy.int64, copy=False))
        if feeds["input_ids"].size == 0:  # nothing to run: the graph's shapes need a token
            hidden = numpy.zeros((*feeds["input_ids"].shape, self.width), dtype=numpy.float32)
        else:
            (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))

    @property
    def width(self) -> int:
        return int(self.session.get_outputs()[0].shape[-1])


class OrtScorer(OrtModule):
    """In place of a component's scorer: (padded token vectors, type vectors) -> a tuple of logits."""

    def forward(self, tokens: torch.Tensor, types: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        feeds = {"tokens": tokens.detach().cpu().numpy(), "types": types.detach().cpu().numpy()}
        outputs = self.session.run(None, {k: v.astype(numpy.float32, copy=False) for k, v in feeds.items()})
        return tuple(torch.from_numpy(o) for o in outputs)
