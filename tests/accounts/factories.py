import factory
from factory.django import DjangoModelFactory

from accounts.models import User

#: The password of every factory-made user.
PASSWORD = "pw-for-tests-only"


class UserFactory(DjangoModelFactory[User]):
    """A user with a role (examiner unless told), made the way User.objects.create_user makes one."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user-{n}")
    role = User.Role.EXAMINER
    password = factory.django.Password(PASSWORD)
