"""The login form, and the forms of the users page."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import MaxLengthValidator

from accounts.models import User


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


class UserInviteForm(forms.Form):
    """A new user, as an admin adds one on the console's users page (the password is made for them)."""

    username = forms.CharField(label="Username", max_length=150, validators=[UnicodeUsernameValidator()],
                               help_text="Letters, digits and @ . + - _ only.")
    email = forms.EmailField(label="Email", required=False, max_length=254)
    role = forms.ChoiceField(label="Role", choices=User.Role.choices, initial=User.Role.EXAMINER)


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=User.Role.choices)


class UserFilterForm(forms.Form):
    """Which users the users page lists (?q=, ?role=, ?state=)."""

    q = forms.CharField(label="Name or email", required=False, max_length=150)
    role = forms.ChoiceField(label="Role", required=False, choices=[("", "any"), *User.Role.choices])
    state = forms.ChoiceField(label="State", required=False, choices=[
        ("", "any"), ("active", "can sign in"), ("pending", "one-time password not yet replaced"),
        ("inactive", "deactivated"),
    ])
