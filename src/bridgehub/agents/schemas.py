"""API shapes of agents."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class AgentRead(BaseModel):
    activation_id: uuid.UUID
    integration: str
    external_id: str
    name: str
    email: str


class AgentList(BaseModel):
    items: list[AgentRead]
