"""Admin of cases: cases, judgments and the search log can be looked at, never changed here (a
case changes through its services, which keep a closed case read-only and log what they do)."""

from django.contrib import admin
from django.http import HttpRequest

from cases.models import Case, CaseSearch, Judgment, JudgmentChange


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("application_number", "title", "examiner", "cutoff_date", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("application_number", "title", "examiner__username")


@admin.register(CaseSearch)
class CaseSearchAdmin(ReadOnlyAdmin):
    list_display = ("case", "number", "origin", "created_by", "created_at", "model_name", "k", "cutoff_date",
                    "cutoff_overridden")
    list_filter = ("origin", "cutoff_overridden")
    search_fields = ("case__application_number",)


@admin.register(Judgment)
class JudgmentAdmin(ReadOnlyAdmin):
    list_display = ("case", "figure", "grade", "category", "judged_by", "judged_at")
    list_filter = ("grade", "category")


@admin.register(JudgmentChange)
class JudgmentChangeAdmin(ReadOnlyAdmin):
    list_display = ("judgment", "changed_by", "changed_at")
