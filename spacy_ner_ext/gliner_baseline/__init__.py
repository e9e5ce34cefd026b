"""GLiNER (the `gliner` library, the optional extra `.[gliner]`) on this project's data: Docs as
GLiNER's training records and back, a GLiNER built on a local backbone, trained by GLiNER's own
Trainer within a budget, and asked for entities as character spans. The side-by-side run that
uses it is `experiments/gliner_comparison.py` (`python -m spacy_ner_ext compare-gliner`)."""
