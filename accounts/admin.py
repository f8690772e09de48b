from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class PatentSearchUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_staff", "is_active", "last_login")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("PatentSearch", {"fields": ("role", "password_change_required")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("PatentSearch", {"fields": ("role",)}))
