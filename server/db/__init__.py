"""Database: models, engine, sessions, migrations."""

from server.db.engine import Database
from server.db.models import *  # noqa: F403
from server.db.models import __all__ as _models

__all__ = ["Database", *_models]
