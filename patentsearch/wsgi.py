import os

from django.core.wsgi import get_wsgi_application

from patentsearch import embedded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patentsearch.settings.base")
application = get_wsgi_application()
embedded.prepare()
