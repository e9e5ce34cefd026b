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


def test_the_joint_description_transformer_warns_once_about_a_description_it_cuts(tiny_transformer):
    import warnings

    import numpy
    import pytest

    from spacy_ner_ext.ml.type_encoders import TypeInput, transformer_type_encoder
    from spacy_ner_ext.ml.type_vectors import DescriptionWarning

    encoder = transformer_type_encoder(name=tiny_transformer, max_length=8)
    encoder.initialize()
    types = TypeInput(["john smith", "a city like paris or london or berlin in germany or france"],
                      numpy.zeros((2, 4), dtype="float32"))
    with pytest.warns(DescriptionWarning, match=r"The description 'a city like paris.*is \d+ word pieces long; "
                                                r"the description transformer .* reads the first 8"):
        encoder.predict(types)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.predict(types)  # measured once: no second warning
