"""HTTP layer of agents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from bridgehub.accounts.auth import AccountCaller
from bridgehub.agents.schemas import AgentList, AgentRead
from bridgehub.agents.service import agent_service
from bridgehub.db.session import DbSession
from bridgehub.kit.schemas import error_responses

router = APIRouter(prefix="/v1", tags=["agents"])


@router.get(
    "/agents", summary="Agents of every connected system", responses=error_responses(401, 403)
)
async def list_agents(
    account: AccountCaller,
    session: DbSession,
    email: Annotated[str | None, Query(description="Only the agents with this email.")] = None,
) -> AgentList:
    rows = await agent_service.list(session, account, email=email)
    return AgentList(
        items=[
            AgentRead(
                activation_id=agent.activation_id,
                integration=integration,
                external_id=agent.external_id,
                name=agent.name,
                email=agent.email,
            )
            for agent, integration in rows
        ]
    )
