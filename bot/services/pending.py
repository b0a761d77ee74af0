"""Questions the bot asked and is waiting to have answered by the person's next message."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.models import Person
from bot.services.base import Service
from storage.tickets import PendingInput

PENDING_MINUTES = 30


class PendingService(Service):
    async def ask(
        self, person: Person, kind: str, payload: str = "", ticket_id: int | None = None
    ) -> None:
        async with self.db.transaction() as tx:
            expires = self.clock.now() + timedelta(minutes=PENDING_MINUTES)
            await tx.pending.put(person.id, kind, ticket_id, payload, expires)

    async def get(self, person: Person) -> PendingInput | None:
        async with self.db.read() as tx:
            return await tx.pending.get(person.id, self.clock.now())

    async def clear(self, person: Person) -> bool:
        async with self.db.transaction() as tx:
            return await tx.pending.clear(person.id)
