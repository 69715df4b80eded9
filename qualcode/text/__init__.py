"""Language processing: spaCy pipelines, the lemma cache, TF-IDF in numpy."""
