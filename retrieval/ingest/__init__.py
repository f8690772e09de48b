"""Ingest: a corpus folder or .zip becomes Patent, Figure and FigureText rows, all or nothing.

The pipeline, one module a step (``pipeline.corpus_ingest`` runs it):

1. **Source** (``corpus_source``): open the folder or the zip as a ``CorpusSource`` that reads
   files by relative path and refuses any path that leaves the corpus (``..``, absolute paths,
   symbolic links out, zip bombs).
2. **Check everything** (``corpus_metadata``, then ``pipeline``): parse ``metadata.csv`` and
   ``descriptions.jsonl`` row by row in the corpus format of ``retrieval.ml.corpus_format``
   (strictly: every bad row is a ``CorpusProblem`` naming file, line and reason), then decode
   every image, page by page. Nothing is written while any problem is found; the whole list
   is raised at once as ``CorpusValidationError``.
3. **Write** (``figure_files``, ``write``): the checked pages are stored under MEDIA_ROOT by
   content (``figures/ab/<sha256>.<ext>``, so the same drawing twice is one file), then the
   rows are written in one transaction, one ingest at a time (an advisory lock); figures
   already present are skipped, so the same corpus twice adds nothing. A failure removes the
   files this attempt created.
4. **Enqueue** (``write``, through the services): encoding under the active model, the text
   channel's rows and, when configured, LLM descriptions are queued on commit
   (``retrieval.services.encoding`` / ``search_text`` / ``describe``); figures whose earlier
   encoding was lost are queued again. ``types`` holds what the steps pass on and return.

Ingest sits above ``retrieval.services`` in the import contracts (it calls them to enqueue)
and is the one Django-side reader of ``retrieval.ml.corpus_format``.
"""
