import numpy
import pytest

from spacy_ner_ext.pipeline.length_batches import Piece, cut_pieces, group_by_length, score_in_pieces


def test_cut_pieces_overlap_by_the_context():
    assert cut_pieces([0, 3, 10], max_tokens=6, context=2) == [
        Piece(1, 0, 3, 3), Piece(2, 0, 4, 6), Piece(2, 4, 8, 10), Piece(2, 8, 10, 10)]
    with pytest.raises(ValueError, match="context < max_tokens"):
        cut_pieces([5], max_tokens=4, context=4)


def test_groups_stay_within_the_token_budget():
    sizes = [3, 50, 4, 4, 10, 1, 2]
    groups = group_by_length(sizes, max_tokens=12)
    assert sorted(i for g in groups for i in g) == list(range(len(sizes)))
    assert groups[0] == [1]  # longer than the budget: alone
    for group in groups[1:]:
        assert len(group) * max(sizes[i] for i in group) <= 12


def _padded_span_scores(pieces, width):
    """A stand-in for the span scorer, computed on the padded batch as the torch one is: the
    vector of each token, and for span (i, w) the sum of the vectors of tokens i and i + w
    (clamped at the batch's end)."""
    longest = max(len(p) for p in pieces)
    padded = numpy.zeros((len(pieces), longest, pieces[0].shape[1]))
    for row, p in enumerate(pieces):
        padded[row, : len(p)] = p
    end = numpy.minimum(numpy.arange(longest)[:, None] + numpy.arange(width)[None, :], longest - 1)
    return padded, padded[:, :, None, :] + padded[:, end, :]


@pytest.mark.parametrize("max_tokens", [8, 13, 1000])
def test_pieces_give_the_scores_of_whole_docs(max_tokens):
    rng = numpy.random.default_rng(0)
    width = 4
    docs = [rng.normal(size=(n, 3)) for n in (0, 1, 5, 40, 7, 3)]
    joined = score_in_pieces(docs, lambda pieces: _padded_span_scores(pieces, width), max_tokens, width - 1)
    assert joined[0] is None
    for doc, scores in zip(docs[1:], joined[1:]):
        tokens, spans = scores
        expected_tokens, expected_spans = _padded_span_scores([doc], width)
        numpy.testing.assert_allclose(tokens, expected_tokens[0])
        n = len(doc)
        inside = numpy.arange(n)[:, None] + numpy.arange(width)[None, :] < n
        # Spans that end inside the doc are the same; those past its end are never decoded.
        numpy.testing.assert_allclose(spans[inside], expected_spans[0][inside])
