"""Writing an activation's agents: each agent sync answers the whole roster."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.agents.models import Agent
from bridgehub.bridge.protocol import Agent as ReceivedAgent
from bridgehub.contacts.phones import normalize_email
from bridgehub.contacts.store import Owner
from bridgehub.db.base import utc_now
from bridgehub.db.upserts import Written, counted, write_counted


async def replace_agents(
    session: AsyncSession, owner: Owner, agents: Sequence[ReceivedAgent]
) -> Written:
    """Upsert the roster a bridge answered, and forget agents no longer in it."""
    rows = list({a.id: _agent_row(owner, a) for a in agents}.values())
    removed = delete(Agent).where(
        Agent.account_id == owner.account_id, Agent.activation_id == owner.activation_id
    )
    if rows:
        removed = removed.where(Agent.external_id.not_in([row["external_id"] for row in rows]))
    await session.execute(removed)
    if not rows:
        return Written()
    statement = insert(Agent).values(rows)
    upsert = statement.on_conflict_do_update(
        index_elements=[Agent.activation_id, Agent.external_id],
        set_={
            "name": statement.excluded.name,
            "email": statement.excluded.email,
            "updated_at": utc_now(),
        },
        where=(Agent.name != statement.excluded.name) | (Agent.email != statement.excluded.email),
    )
    return await write_counted(session, counted(upsert), {}, len(rows))


def _agent_row(owner: Owner, agent: ReceivedAgent) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "account_id": owner.account_id,
        "activation_id": owner.activation_id,
        "external_id": agent.id,
        "name": agent.name,
        "email": normalize_email(agent.email) or agent.email,
    }
