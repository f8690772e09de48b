"""The relevance scale and citation categories of judgments: one definition for cases and studies.

Grades are graded relevance as in TREC qrels (0 not relevant ... 3 highly relevant); citation
categories are the search-report categories patent offices use (X, Y, A).
"""

from django.db import models


class Grade(models.IntegerChoices):
    NOT_RELEVANT = 0, "Not relevant"
    MARGINAL = 1, "Marginal"
    RELEVANT = 2, "Relevant"
    HIGHLY_RELEVANT = 3, "Highly relevant"


class Category(models.TextChoices):
    X = "X", "X: anticipates on its own"
    Y = "Y", "Y: relevant in combination"
    A = "A", "A: background"


#: A grade's words for the page scripts ("highly relevant"), by grade: the case and study pages'.
GRADE_WORDS = [label.lower() for _, label in Grade.choices]

RELEVANT_MIN_GRADE = Grade.RELEVANT  # grade >= 2 counts as relevant (Rocchio, precision@k)
