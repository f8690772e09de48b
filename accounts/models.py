from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A person using PatentSearch: an examiner searching, an admin running corpora and models,
    or a participant in a user study."""

    class Role(models.TextChoices):
        EXAMINER = "examiner", "Examiner"
        ADMIN = "admin", "Admin"
        PARTICIPANT = "participant", "Study participant"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EXAMINER)
    #: Set when an admin made the password (a new user, a reset): the user chooses their own at
    #: the next sign-in before anything else (accounts.middleware).
    password_change_required = models.BooleanField(default=False)
    #: When the one-time password stops working (PATENTSEARCH_ONE_TIME_PASSWORD_DAYS after it was
    #: made); empty for a password the user chose.
    one_time_password_expires_at = models.DateTimeField(null=True, blank=True)

    @property
    def one_time_password_expired(self) -> bool:
        return bool(self.password_change_required and self.one_time_password_expires_at is not None
                    and self.one_time_password_expires_at <= timezone.now())

    class Meta(AbstractUser.Meta):
        permissions = [("search_prior_art", "Can search prior art"), ("manage_users", "Can manage users")]

    @property
    def is_admin_role(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser
