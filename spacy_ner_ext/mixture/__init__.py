"""The many-type training mixture: public corpora, their types mapped to one set of described
types, sampled into train and dev DocBins that record which types each Doc's source annotates."""
