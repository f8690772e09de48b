"""Pages of user studies: the participant's task loop (blind), and the admin's studies and results."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views import View

from cases.grades import GRADE_WORDS
from patentsearch.api import error_messages
from patentsearch.exceptions import ApplicationError
from patentsearch.pages import page_of
from studies.analysis import METRICS
from studies.forms import AddParticipantsForm, StudyFromCorpusForm
from studies.models import Study
from studies.plots import metric_svg
from studies.selectors import studies as selectors
from studies.services.definition import (
    PARTICIPANT_ROLES,
    study_add_participants,
    study_create_from_corpus,
    study_vectors_missing,
)
from studies.services.participation import SUS_STATEMENTS
from studies.summary_text import metric_cell

STUDIES_PER_PAGE = 50
PARTICIPANTS_PER_PAGE = 50

METRIC_TITLES = {
    "precision@5": "Precision@5 (grades ≥ 2)",
    "precision@10": "Precision@10 (grades ≥ 2)",
    "time_to_first_relevant_s": "Seconds to the first relevant hit",
    "sus": "System Usability Scale (0-100)",
}


class _AdminOnly(LoginRequiredMixin, View):
    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated and not request.user.is_admin_role:
            return render(request, "studies/forbidden.html", status=403)
        return super().dispatch(request, *args, **kwargs)


class StudyHomeView(LoginRequiredMixin, View):
    """Admins: the studies. Participants and examiners: their study tasks."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_admin_role:
            return redirect("studies:run")
        studies = page_of(request, selectors.study_list(), STUDIES_PER_PAGE)
        return render(request, "studies/list.html", {"studies": studies})


class StudyRunView(LoginRequiredMixin, View):
    """The participant's page: one task at a time through the participant API (static/js/study.js)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.user.role not in PARTICIPANT_ROLES:
            return render(request, "studies/forbidden.html", status=403)
        return render(request, "studies/run.html", {
            "sus_statements": SUS_STATEMENTS, "grade_words": GRADE_WORDS,
        })


class StudyCreateView(_AdminOnly):
    template_name = "studies/new.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": StudyFromCorpusForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = StudyFromCorpusForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        data = form.cleaned_data
        try:
            study = study_create_from_corpus(
                name=data["name"], description=data["description"], arms=data["arms"],
                corpus_name=data["corpus"].name, n_tasks=data["n_tasks"], views=data["views"],
                participants=data["participants"], design=data["design"], k=data["k"],
                time_limit_s=data["time_limit_s"], seed=data["seed"], created_by=request.user,
            )
        except ApplicationError as exc:
            return render(request, self.template_name, {"form": form, "errors": _problems(form, exc)}, status=400)
        return redirect("studies:detail", pk=study.pk)


class StudyDetailView(_AdminOnly):
    """A study's definition, progress, summary with a plot per metric, and its exports."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        study = get_object_or_404(Study, pk=pk)
        summary = selectors.study_summary(study=study)
        rows = [
            {"name": name, "n": arm["n"], "participants": arm["participants"],
             "cells": [metric_cell(arm, m) for m in (*METRICS, "sus")]}
            for name, arm in summary["arms"].items()  # type: ignore[union-attr]
        ]
        plots = [
            {"title": title, "svg": mark_safe(metric_svg(summary, metric, title))}  # noqa: S308 - numbers, escaped names
            for metric, title in METRIC_TITLES.items()
        ]
        participants = page_of(request, selectors.study_participants(study=study), PARTICIPANTS_PER_PAGE,
                               "participants_page")
        return render(request, "studies/detail.html", {
            "study": study, "arms": selectors.study_arms(study=study),
            "tasks": selectors.study_tasks(study=study), "participants": participants,
            "rows": rows, "metrics": list(METRIC_TITLES.values()), "plots": plots, "tests": _test_rows(summary),
            "candidates": selectors.participant_candidates(study=study),
            "missing": [(model.name, len(ids)) for model, ids in study_vectors_missing(study=study).items() if ids],
        })


class StudyParticipantsView(_AdminOnly):
    """Add participants from the study page."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        study = get_object_or_404(Study, pk=pk)
        form = AddParticipantsForm(request.POST)
        if not form.is_valid():
            messages.error(request, "; ".join(error_messages(form)))
            return redirect("studies:detail", pk=study.pk)
        try:
            study_add_participants(study=study, participants=form.cleaned_data["participants"])
        except ApplicationError as exc:
            messages.error(request, "; ".join(_problems(form, exc)))
        return redirect("studies:detail", pk=study.pk)


def _problems(form: object, exc: ApplicationError) -> list[str]:
    """A refused study's problems ({"where", "reason"}, as the API lists them) as a page's lines,
    each after the label of the form's field it is about; else the error's message."""
    errors: dict[str, list[str]] = {}
    for problem in exc.extra.get("problems", []):
        errors.setdefault(problem["where"], []).append(problem["reason"])
    return error_messages(form, errors) or [exc.message]


def _test_rows(summary: dict) -> list[dict[str, object]]:
    rows = []
    for metric, pairs in summary["tests"].items():
        for pair, test in pairs.items():
            rows.append({"metric": metric, "title": METRIC_TITLES.get(metric, metric), "pair": pair, **test})
    return rows
