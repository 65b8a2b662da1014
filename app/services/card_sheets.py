"""Which cards a supervisor can print on an A4 sheet: communes, and their clients.

Two sheets per commune (`cards.print_cards`): the clients **without** a card yet (new cards;
the cards in use stay valid), or **every** client with a card (each reissued: as the database
keeps only hashes, the old card stops working). This module finds the ids for one commune,
within the actor's scope, so the print screen never builds SQL itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.policy import Action, authorize_grant, client_scope_filter
from app.services.text import vi_sort_key
from models import Card, CardStatus, Client, ClientStatus, Place

Sheet = Literal["new", "reissue"]


@dataclass(frozen=True)
class CommuneCards:
    commune_id: int
    name: str
    cards: int  # active clients in scope with an active card
    without: int = 0  # active clients in scope with no active card


def _has_card() -> ColumnElement[bool]:
    return (
        select(Card.id)
        .where(col(Card.client_id) == col(Client.id), col(Card.status) == CardStatus.ACTIVE)
        .exists()
    )


def communes_with_cards(*, session: Session, actor: Actor | None) -> list[CommuneCards]:
    """Communes of the actor's scope with active clients, each with how many hold an active
    card and how many have none, in Vietnamese order."""
    me = authorize_grant(session, actor, Action.CARD_ISSUE)
    rows = session.exec(
        select(Client.commune_id, func.sum(case((_has_card(), 1), else_=0)),
               func.count(col(Client.id)))
        .where(client_scope_filter(me), col(Client.status) == ClientStatus.ACTIVE)
        .group_by(col(Client.commune_id))
    ).all()
    counts = {cid: (int(cards or 0), int(n) - int(cards or 0)) for cid, cards, n in rows}
    if not counts:
        return []
    names = dict(
        session.exec(select(Place.id, Place.name).where(col(Place.id).in_(counts))).all()
    )
    found = [CommuneCards(cid, names.get(cid, ""), n[0], n[1]) for cid, n in counts.items()]
    return sorted(found, key=lambda c: vi_sort_key(c.name))


def clients_for_sheet(*, session: Session, actor: Actor | None, commune_id: int,
                      sheet: Sheet) -> list[int]:
    """Ids of the commune's active clients (actor's scope), by name: those with no active card
    ("new"), or those with one ("reissue"). The look-up is audited."""
    me = authorize_grant(session, actor, Action.CARD_ISSUE)
    has_card = _has_card()
    rows = session.exec(
        select(Client.id, Client.full_name)
        .where(client_scope_filter(me), col(Client.commune_id) == commune_id,
               col(Client.status) == ClientStatus.ACTIVE,
               has_card if sheet == "reissue" else ~has_card)
    ).all()
    audit.record(session, actor=me, action="card.sheet", target_type="place",
                 target_id=commune_id, detail=f"cards={len(rows)},sheet={sheet}")
    ordered = sorted(rows, key=lambda row: (vi_sort_key(row[1]), row[0] or 0))
    return [client_id for client_id, _name in ordered if client_id is not None]
