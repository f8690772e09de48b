"""The login form."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.timezone import localtime


class LoginForm(AuthenticationForm):
    """Django's login form, its username's length checked as well as shown.

    AuthenticationForm sets the username field's ``max_length`` after the field is made, so the
    limit reaches the HTML but no validator: a longer name went on to authentication, where
    django-axes logs failed logins in a 255-character column and PostgreSQL refused it (a 500).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))

    def confirm_login_allowed(self, user: object) -> None:
        """A one-time password past its term no longer signs in: the user asks for a new one."""
        super().confirm_login_allowed(user)  # type: ignore[arg-type]
        if getattr(user, "one_time_password_expired", False):
            raise ValidationError(
                f"Your one-time password expired on {localtime(user.one_time_password_expires_at):%Y-%m-%d %H:%M}: "  # type: ignore[attr-defined]
                "ask an admin for a new one.", code="one_time_password_expired")
