"""The bundled demo application: a login-and-consent ``/authorize`` page and ``/api/whoami``."""

from .app import DEMO_USERS
from .app import build_reference
from .app import default_options

__all__ = ["DEMO_USERS", "build_reference", "default_options"]
