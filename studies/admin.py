"""Django admin views of studies: read-only, since a study is defined as a whole by the studies
page, the API or create_study (which make its assignments), and its event log is append-only."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from studies.models import Arm, Assignment, Event, Participant, Study, Task


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ArmInline(_ReadOnly, admin.TabularInline):
    model = Arm
    fields = ("position", "name", "model", "mode")
    extra = 0
    can_delete = False


class ParticipantInline(_ReadOnly, admin.TabularInline):
    model = Participant
    fields = ("position", "user", "sus_score", "sus_at")
    extra = 0
    can_delete = False


@admin.register(Study)
class StudyAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("name", "design", "k", "time_limit_s", "created_by", "created_at", "page")
    search_fields = ("name",)
    inlines = [ArmInline, ParticipantInline]

    @admin.display(description="study page")
    def page(self, study: Study) -> str:
        return format_html('<a href="{}">summary and exports</a>', reverse("studies:detail", args=[study.pk]))


@admin.register(Task)
class TaskAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("study", "position", "text", "gallery")
    list_filter = ("study",)


@admin.register(Assignment)
class AssignmentAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("participant", "task", "position", "arm", "started_at", "ended_at", "finished_at")
    list_filter = ("participant__study",)


@admin.register(Event)
class EventAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("at", "study", "participant", "kind", "arm", "rank", "figure")
    list_filter = ("study", "kind")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
