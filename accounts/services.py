from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import User
from accounts.roles import ROLE_IS_STAFF, role_group_name, roles_sync


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = "") -> User:
    """A user whose permissions come from the role's group; admins get the admin site (staff)
    with the admin group's permissions, never superuser (that stays for operators)."""
    user = User(username=username, email=email, role=role, is_staff=ROLE_IS_STAFF.get(role, False))
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    roles_sync()
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return user
