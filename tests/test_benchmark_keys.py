"""The benchmark's JSON: every key issue 12 lists is in every run's file, a part left out by an
option as null with the reason (the 1M run, made with --page-files 0, had no ingest_pages_per_s)."""

import argparse

from benchmarks.__main__ import REQUIRED_KEYS, _mark_skipped


def test_a_run_that_leaves_a_part_out_still_writes_every_key_and_says_why():
    results: dict[str, object] = {key: 1.0 for key in REQUIRED_KEYS if key != "ingest_pages_per_s"}
    _mark_skipped(results, argparse.Namespace(page_files=0))
    assert set(REQUIRED_KEYS) <= set(results) and results["ingest_pages_per_s"] is None
    assert results["skipped"] == {"ingest_pages_per_s": "--page-files 0: no drawing pages were ingested"}
    full: dict[str, object] = {key: 1.0 for key in REQUIRED_KEYS}
    _mark_skipped(full, argparse.Namespace(page_files=20))
    assert "skipped" not in full and all(value == 1.0 for value in full.values())
