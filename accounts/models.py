from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac


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

    #: Raised to sign the user out of every session at once (their own "sign out everywhere
    #: else", an admin's "end sessions"): a session holds a hash of the password and this number.
    session_generation = models.PositiveIntegerField(default=0)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session hash (an HMAC of the password hash), with the session generation in it
        once it was raised: generation 0 keeps Django's own value, so no session ends on upgrade."""
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        return salted_hmac(key_salt, f"{self.password}:{self.session_generation}", secret=secret,
                           algorithm="sha256").hexdigest()

    @property
    def one_time_password_expired(self) -> bool:
        return bool(self.password_change_required and self.one_time_password_expires_at is not None
                    and self.one_time_password_expires_at <= timezone.now())

    class Meta(AbstractUser.Meta):
        permissions = [("search_prior_art", "Can search prior art"), ("manage_users", "Can manage users")]

    @property
    def is_admin_role(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser
