"""The one lookup of the active model."""

import pytest

from retrieval.exceptions import NoActiveModelError
from retrieval.selectors.models import active_model, model_get_active
from tests.retrieval.factories import VectorModelFactory

pytestmark = pytest.mark.django_db


def test_no_model_is_active_on_a_fresh_install():
    VectorModelFactory()  # registered, never activated
    assert active_model() is None
    with pytest.raises(NoActiveModelError, match="No model is active yet"):
        model_get_active()


def test_the_active_model_is_found():
    VectorModelFactory()
    chosen = VectorModelFactory(is_active=True)
    assert active_model() == model_get_active() == chosen
