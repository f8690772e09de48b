"""The admin's forms: define a study whose tasks come from a corpus (the page's create_study), add
participants to one."""

from __future__ import annotations

from django import forms

from accounts.models import User
from retrieval.models import Corpus, RetrievalModel
from studies.models import Arm, Study
from studies.services.definition import PARTICIPANT_ROLES, TEXT_SUFFIX


def _arm_choices() -> list[tuple[str, str]]:
    choices = []
    for model in RetrievalModel.objects.order_by("name"):
        choices.append((model.name, f"{model.name} · {Arm.Mode.DRAWING.label}"))
        choices.append((model.name + TEXT_SUFFIX, f"{model.name} · {Arm.Mode.DRAWING_TEXT.label}"))
    return choices


def _participant_choices() -> list[tuple[str, str]]:
    users = User.objects.filter(role__in=PARTICIPANT_ROLES).order_by("role", "username")
    return [(u.username, f"{u.username} ({u.get_role_display()})") for u in users]


class StudyFromCorpusForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    arms = forms.MultipleChoiceField(help_text="Two or more (interleaving: exactly two).")
    corpus = forms.ModelChoiceField(queryset=Corpus.objects.order_by("name"), to_field_name="name",
                                    empty_label="Choose a corpus")
    n_tasks = forms.IntegerField(min_value=1, max_value=500, initial=3, label="Tasks")
    views = forms.IntegerField(min_value=1, max_value=8, initial=2, label="Query drawings per task")
    participants = forms.MultipleChoiceField()
    design = forms.ChoiceField(choices=Study.Design.choices, initial=Study.Design.WITHIN)
    k = forms.IntegerField(min_value=1, max_value=100, initial=10, label="Hits per task")
    time_limit_s = forms.IntegerField(min_value=10, required=False, label="Time limit per task (seconds)")
    seed = forms.IntegerField(initial=0)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["arms"].choices = _arm_choices()
        self.fields["participants"].choices = _participant_choices()


class AddParticipantsForm(forms.Form):
    """Participants to add to a study (the study page's select): users who may take part."""

    participants = forms.MultipleChoiceField(label="Add participants")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["participants"].choices = _participant_choices()
