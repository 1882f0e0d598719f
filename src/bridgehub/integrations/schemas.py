"""API shapes of the catalog. A configuration travels exactly as the reference defines it."""

from __future__ import annotations

from pydantic import BaseModel

from bridgehub.integrations.configuration import ActionConfiguration, IntegrationConfiguration


class IntegrationList(BaseModel):
    items: list[IntegrationConfiguration]


class ActionList(BaseModel):
    items: list[ActionConfiguration]
