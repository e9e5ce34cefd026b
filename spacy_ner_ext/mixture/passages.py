"""Long passages cut into Docs of at most `max_words` tokens, never inside an entity."""
from typing import List

from spacy.tokens import Doc


def cut_points(doc: Doc, max_words: int) -> List[int]:
    """Token offsets at which `doc` is cut: as late as possible within each window, but never
    inside an entity."""
    inside = [False] * (len(doc) + 1)
    end_of = {}
    for ent in doc.ents:
        for i in range(ent.start + 1, ent.end):
            inside[i] = True
            end_of[i] = ent.end
    points, start = [], 0
    while len(doc) - start > max_words:
        cut = start + max_words
        while cut > start + 1 and inside[cut]:
            cut -= 1
        if inside[cut]:
            # An entity from the window's first token on, longer than the window: the piece
            # runs to its end (a longer piece rather than a cut entity).
            cut = end_of[cut]
            if cut >= len(doc):
                break
        points.append(cut)
        start = cut
    return points


def cut_doc(doc: Doc, max_words: int) -> List[Doc]:
    if len(doc) <= max_words:
        return [doc]
    bounds = [0] + cut_points(doc, max_words) + [len(doc)]
    pieces = []
    for start, end in zip(bounds, bounds[1:]):
        piece = doc[start:end].as_doc()
        # as_doc keeps the entities wholly inside the piece; the user data is the Doc's own.
        piece.user_data.update(doc.user_data)
        pieces.append(piece)
    return pieces
