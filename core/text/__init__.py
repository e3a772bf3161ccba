"""Text at natural boundaries, shared by the servers that read, page and index text.

    boundaries  where to cut: paragraph, then line, sentence, word; a hard cut only as a last resort
    slices      one window of a long text, and the continuation note every paging tool words the same
    chunks      a text as (overlapping) chunks, with their offsets
    bm25        Okapi BM25 ranking of a small set of passages
"""
