"""spaCy pipeline components: span_ner, contrastive_ner, token_ner, and the pipe classes they share."""
