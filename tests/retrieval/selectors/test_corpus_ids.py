"""Corpus ids or names as a search form names them, resolved in one query."""

import pytest

from retrieval.selectors.corpora import corpus_ids_for
from tests.retrieval.factories import CorpusFactory

pytestmark = pytest.mark.django_db


def test_ids_and_names_resolve_in_order_once_each(django_assert_num_queries):
    first, second = CorpusFactory(name="alpha"), CorpusFactory(name="12")
    with django_assert_num_queries(1):
        ids, unknown = corpus_ids_for([str(second.pk), "alpha", "nope", str(first.pk), "²"])
    assert ids == [second.pk, first.pk]
    assert unknown == ["nope", "²"]  # a superscript digit is a name, and no corpus has it


def test_a_name_of_digits_longer_than_an_id_is_a_name():
    corpus = CorpusFactory(name="1" * 19)
    assert corpus_ids_for(["1" * 19]) == ([corpus.pk], [])
