"""The process-wide PyTorch settings."""

import pytest

from retrieval.ml.runtime import set_cpu_threads


@pytest.mark.parametrize("threads", [-1, 1.5, True, "2"])
def test_a_thread_count_must_be_a_non_negative_int(threads):
    with pytest.raises(ValueError, match="non-negative int"):
        set_cpu_threads(threads)
