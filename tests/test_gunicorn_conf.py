"""The web server's settings: one worker per core, each with its share of the cores for PyTorch."""

import importlib
import os

import pytest


@pytest.mark.parametrize(("workers", "torch_threads"), [("1", None), ("2", None), ("64", "1")])
def test_each_web_worker_gets_its_share_of_the_cores_for_pytorch(monkeypatch, workers, torch_threads):
    monkeypatch.setenv("WEB_CONCURRENCY", workers)
    monkeypatch.setenv("PATENTSEARCH_WEB_THREADS", "3")
    monkeypatch.delenv("RETRIEVAL_TORCH_THREADS", raising=False)
    import patentsearch.gunicorn_conf as conf

    conf = importlib.reload(conf)
    cores = os.cpu_count() or 1
    assert (conf.workers, conf.threads) == (int(workers), 3)
    expected = torch_threads or str(max(1, cores // int(workers)))
    assert os.environ["RETRIEVAL_TORCH_THREADS"] == expected


def test_a_chosen_torch_thread_count_is_kept(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setenv("RETRIEVAL_TORCH_THREADS", "3")
    import patentsearch.gunicorn_conf as conf

    conf = importlib.reload(conf)
    assert conf.workers == (os.cpu_count() or 1)
    assert os.environ["RETRIEVAL_TORCH_THREADS"] == "3"
