"""benchmark-annotate: each way's records/s relative to the plain run of the same pipeline."""
from spacy_ner_ext.experiments.annotate_benchmark import relative_to_plain


def row(model, mode, rate, after):
    return {"model": model, "mode": mode, "records_per_second": rate, "records_per_second_after_startup": after}


def test_each_way_is_compared_with_the_plain_run_of_its_own_pipeline():
    rows = relative_to_plain([row("a", "plain", 100.0, 125.0), row("a", "ray, 2 actors", 80.0, 150.0),
                              row("b", "plain", 50.0, 50.0), row("b", "n_process=2", 60.0, None)])
    assert [r.get("vs_plain") for r in rows] == [1.0, 0.8, 1.0, 1.2]
    assert [r.get("vs_plain_after_startup") for r in rows] == [1.0, 1.2, 1.0, None]


def test_without_a_plain_run_nothing_is_made_up():
    (only,) = relative_to_plain([row("a", "ray, 1 actor", 80.0, 90.0)])
    assert "vs_plain" not in only and "vs_plain_after_startup" not in only
