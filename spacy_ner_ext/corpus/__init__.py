from .brat import read_brat
from .conll import read_conll, write_conll
from .descriptions import load_description_variants, load_descriptions
from .dygie import read_dygie
from .errors import CorpusFormatError, CorpusWarning
from .gliner_json import read_gliner_json, write_gliner_json
from .hipe import read_hipe
from .inline_xml import read_inline_xml
from .jsonl import read_jsonl, write_jsonl
from .pubtator import read_pubtator
from .raw import MatchReport, read_raw_annotations
from .readers import FORMATS, docs_to_examples, read_docs
from .split import train_dev_split
from .tags import tags_to_spans

__all__ = [
    "read_conll", "write_conll", "load_descriptions", "CorpusFormatError", "CorpusWarning",
    "read_gliner_json", "write_gliner_json", "read_jsonl", "write_jsonl", "MatchReport",
    "read_raw_annotations", "FORMATS", "docs_to_examples", "read_docs", "train_dev_split",
    "tags_to_spans", "read_brat", "read_pubtator", "read_dygie", "read_hipe", "read_inline_xml",
    "load_description_variants",
]
