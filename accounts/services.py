from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import User


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = "") -> User:
    is_admin = role == User.Role.ADMIN
    user = User(username=username, email=email, role=role, is_staff=is_admin, is_superuser=is_admin)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user
