import torch
from safetensors.torch import save

from spacy_ner_ext.ml.type_encoders import DescriptionTransformer


def test_description_transformer_reads_the_weights_only_bytes_of_0_1_0(tiny_transformer):
    """0.1.0 saved the description transformer as bare safetensors (no config, no tokenizer):
    those bytes still load, the config and tokenizer coming from the architecture's `name`."""
    trained = DescriptionTransformer()
    trained.load(tiny_transformer)
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.add_(0.01)
    old_format = save({k: v.contiguous() for k, v in trained.state_dict().items()})
    loaded = DescriptionTransformer().from_bytes(old_format, "cpu", name=tiny_transformer)
    expected = trained.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in loaded.state_dict().items())
    # The current format round-trips too.
    again = DescriptionTransformer().from_bytes(loaded.to_bytes(), "cpu")
    assert all(torch.equal(v, expected[k]) for k, v in again.state_dict().items())
