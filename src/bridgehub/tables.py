"""Every table of the hub in one metadata: what the migrations must build, as the tests
compare it with a migrated database. Nothing in the running hub needs it."""

from __future__ import annotations

from bridgehub.accounts import models as _accounts  # noqa: F401  (registers tables)
from bridgehub.activations import models as _activations  # noqa: F401  (registers tables)
from bridgehub.agents import models as _agents  # noqa: F401  (registers tables)
from bridgehub.automations import models as _automations  # noqa: F401  (registers tables)
from bridgehub.contacts import models as _contacts  # noqa: F401  (registers tables)
from bridgehub.db.base import Base
from bridgehub.erasures import models as _erasures  # noqa: F401  (registers tables)
from bridgehub.events import models as _events  # noqa: F401  (registers tables)
from bridgehub.executions import models as _executions  # noqa: F401  (registers tables)
from bridgehub.integrations import models as _integrations  # noqa: F401  (registers tables)
from bridgehub.syncs import models as _syncs  # noqa: F401  (registers tables)
from bridgehub.web import models as _web  # noqa: F401  (registers tables)

metadata = Base.metadata


def owned_by_the_hub(_: object, name: str | None, kind: str, *__: object) -> bool:
    """Alembic's `include_object`: what autogenerate compares. The task queue's tables are
    procrastinate's, not ours; and Alembic cannot compare indexes on expressions, which
    are therefore named `..._expression` and left out."""
    if name is None:
        return True
    if kind == "table":
        return not name.startswith("procrastinate_")
    return not (kind == "index" and name.endswith("_expression"))
