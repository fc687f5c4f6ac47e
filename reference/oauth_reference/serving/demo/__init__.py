"""The bundled demo application: a login-and-consent ``/authorize`` page and ``/api/whoami``."""

from oauth_reference.serving.demo.app import DEMO_USERS
from oauth_reference.serving.demo.app import build_reference
from oauth_reference.serving.demo.app import default_options

__all__ = ["DEMO_USERS", "build_reference", "default_options"]
