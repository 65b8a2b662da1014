"""Which cards a supervisor can print on an A4 sheet: communes with active cards, and their clients.

`cards.print_cards` needs client ids that all have an active card; this module finds them for
one commune, within the actor's scope, so the print screen never builds SQL itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.policy import Action, authorize_grant, client_scope_filter
from app.services.text import vi_sort_key
from models import Card, CardStatus, Client, ClientStatus, Place


@dataclass(frozen=True)
class CommuneCards:
    commune_id: int
    name: str
    cards: int  # active clients in scope with an active card


def _printable() -> list[ColumnElement[bool]]:
    return [
        col(Card.client_id) == col(Client.id),
        col(Card.status) == CardStatus.ACTIVE,
        col(Client.status) == ClientStatus.ACTIVE,
    ]


def communes_with_cards(*, session: Session, actor: Actor | None) -> list[CommuneCards]:
    """Communes of the actor's scope that have at least one printable card, in Vietnamese order."""
    me = authorize_grant(session, actor, Action.CARD_ISSUE)
    rows = session.exec(
        select(Client.commune_id, func.count(col(Card.id)))
        .select_from(Client)
        .join(Card, col(Card.client_id) == col(Client.id))
        .where(client_scope_filter(me), *_printable())
        .group_by(col(Client.commune_id))
    ).all()
    counts = {commune_id: int(n) for commune_id, n in rows}
    if not counts:
        return []
    names = dict(
        session.exec(select(Place.id, Place.name).where(col(Place.id).in_(counts))).all()
    )
    found = [CommuneCards(cid, names.get(cid, ""), n) for cid, n in counts.items()]
    return sorted(found, key=lambda c: vi_sort_key(c.name))


def clients_with_cards(*, session: Session, actor: Actor | None, commune_id: int) -> list[int]:
    """Ids of the commune's active clients with an active card (actor's scope), by name."""
    me = authorize_grant(session, actor, Action.CARD_ISSUE)
    rows = session.exec(
        select(Client.id, Client.full_name)
        .join(Card, col(Card.client_id) == col(Client.id))
        .where(client_scope_filter(me), col(Client.commune_id) == commune_id, *_printable())
    ).all()
    audit.record(session, actor=me, action="card.sheet", target_type="place",
                 target_id=commune_id, detail=f"cards={len(rows)}")
    ordered = sorted(rows, key=lambda row: (vi_sort_key(row[1]), row[0] or 0))
    return [client_id for client_id, _name in ordered if client_id is not None]
