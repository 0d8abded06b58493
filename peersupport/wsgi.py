"""WSGI entry point: the application, with its views and templates loaded before any request.

See https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersupport.settings")

application = get_wsgi_application()

from peersupport.warmup import warm_up  # noqa: E402 - needs the apps loaded above

warm_up()
