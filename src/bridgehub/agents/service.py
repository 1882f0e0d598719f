"""Reading agents, scoped by the calling account."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.tenancy import owned_by
from bridgehub.activations.models import Activation
from bridgehub.agents.models import Agent
from bridgehub.integrations.models import Integration


class AgentService:
    async def list(
        self, session: AsyncSession, account: Account, *, email: str | None = None
    ) -> Sequence[tuple[Agent, str]]:
        statement = (
            select(Agent, Integration.name)
            .join(  # on the account too, as contacts are (contacts.service)
                Activation,
                (Activation.id == Agent.activation_id)
                & (Activation.account_id == Agent.account_id),
            )
            .join(Integration, Integration.id == Activation.integration_id)
            .where(owned_by(account, Agent))
            .order_by(Agent.name, Agent.id)
        )
        if email:
            statement = statement.where(Agent.email == email.strip().lower())
        return [(agent, name) for agent, name in await session.execute(statement)]


agent_service = AgentService()
