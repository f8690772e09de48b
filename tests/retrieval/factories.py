import datetime as dt

import factory
from factory.django import DjangoModelFactory

from retrieval.models import Corpus, Figure, Patent, RetrievalModel


class CorpusFactory(DjangoModelFactory[Corpus]):
    class Meta:
        model = Corpus
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"corpus-{n}")


class PatentFactory(DjangoModelFactory[Patent]):
    class Meta:
        model = Patent

    patent_id = factory.Sequence(lambda n: f"USD{700000 + n}")
    corpus = factory.SubFactory(CorpusFactory)
    title = "Widget"
    us_class_main = "D14"
    us_class = "D14/486"
    grant_date = dt.date(2015, 1, 1)


class FigureFactory(DjangoModelFactory[Figure]):
    class Meta:
        model = Figure

    patent = factory.SubFactory(PatentFactory)
    corpus = factory.SelfAttribute("patent.corpus")
    source_file = factory.Sequence(lambda n: f"images/{n}.png")
    image = factory.Sequence(lambda n: f"figures/none/{n}.png")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    width = 100
    height = 100


class VectorModelFactory(DjangoModelFactory[RetrievalModel]):
    """A model row for index tests that store vectors directly (no encoder behind it)."""

    class Meta:
        model = RetrievalModel

    name = factory.Sequence(lambda n: f"vectors-{n}")
    architecture = "none"
    dim = 32
    checkpoint = "none"
    version = "none"
