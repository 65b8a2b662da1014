"""What one episode's end sets in motion: the post-rehab management the law calls for.

When a rehab episode (voluntary at home/community or at a facility, compulsory) or methadone
ends completed, post-rehab management follows from its end (Law 73/2021 Art 40; Law 120/2025):
`post_rehab_proposals` lists, for a supervisor, each such episode with no post-rehab episode
after it yet, with the term the rule in force gives for the previous episode's type and the
person's age; `accept_post_rehab` opens it, `dismiss_post_rehab` decides that none follows
(with the reason, audited; e.g. the person moved away, or the episode was entered twice).
The other transitions happen where their cause is recorded: admission ends pending-compulsory
management (`episodes.open_episode`), a determination of dependence ends illegal-use
management (`records.record_determination`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.dto import EpisodeCreate, EpisodeRead
from app.services.errors import NotFound, ValidationFailed
from app.services.law import episodes, rules
from app.services.law.dto import PostRehabProposal
from app.services.policy import Action, authorize_client, authorize_grant, client_scope_filter
from app.services.text import required_reason
from models import (
    Client,
    ClientStatus,
    DurationRule,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    PostRehabDismissal,
)

# Episodes whose completion starts post-rehab management.
LEADS_TO_POST_REHAB = (*sorted(rules.REHAB_TYPES), EpisodeType.MMT)
MAX_PROPOSALS = 200


def _proposal(session: Session, rows: list[DurationRule], episode: Episode, client: Client
              ) -> PostRehabProposal | None:
    assert episode.id is not None and episode.actual_end is not None
    q = episodes.query_for(client, EpisodeType.POST_REHAB, episode.actual_end, 1,
                            EpisodeType(episode.episode_type))
    rule = rules.choose_rule(rows, q)
    if rule is None:
        return None
    return PostRehabProposal(
        previous_episode_id=episode.id, previous_type=EpisodeType(episode.episode_type),
        client_id=client.id or 0, client_name=client.full_name, start_date=episode.actual_end,
        months=rule.months, rule_id=rule.id, legal_basis=rule.legal_basis,
        needs_review=rule.needs_review,
        expected_end=rules.term_end(rule, start=episode.actual_end, decision=None,
                                    decided_months=None),
    )


def _pending_query(actor: Actor) -> Any:
    """Completed rehab/methadone episodes in scope with no post-rehab episode after them."""
    later = aliased(Episode)
    followed = exists().where(
        col(later.client_id) == col(Episode.client_id),
        col(later.episode_type) == EpisodeType.POST_REHAB,
        # A post-rehab episode after this one (named as its previous, or started since).
        (col(later.previous_episode_id) == col(Episode.id))
        | and_(col(later.previous_episode_id).is_(None),
               col(later.start_date) >= col(Episode.actual_end)),
    )
    dismissed = exists().where(col(PostRehabDismissal.previous_episode_id) == col(Episode.id))
    return (
        select(Episode, Client)
        .join(Client, col(Client.id) == col(Episode.client_id))
        .where(
            client_scope_filter(actor),
            col(Client.status) == ClientStatus.ACTIVE,
            col(Episode.status) == EpisodeStatus.CLOSED,
            col(Episode.end_reason) == EndReason.COMPLETED,
            col(Episode.episode_type).in_(LEADS_TO_POST_REHAB),
            col(Episode.actual_end).is_not(None),
            ~followed,
            ~dismissed,
        )
        # Newest first: the list is cut at MAX_PROPOSALS, and old ones matter least.
        .order_by(col(Episode.actual_end).desc(), col(Episode.id).desc())
    )


def post_rehab_proposals(*, session: Session, actor: Actor | None,
                         today: date | None = None) -> list[PostRehabProposal]:
    """Completed rehab and methadone episodes in scope that await a post-rehab decision,
    newest first. With `today`, those whose post-rehab term would already be over are left
    out (records carried over from before the app, where no decision is to be taken now)."""
    me = authorize_grant(session, actor, Action.EPISODE_DECIDE)
    rows = list(session.exec(select(DurationRule)).all())
    found = session.exec(_pending_query(me).limit(MAX_PROPOSALS)).all()
    proposals = [p for e, c in found if (p := _proposal(session, rows, e, c)) is not None]
    if today is not None:
        proposals = [p for p in proposals if p.expected_end is None or p.expected_end > today]
    return proposals


def accept_post_rehab(
    *, session: Session, actor: Actor | None, previous_episode_id: int,
    decision_number: str = "", decision_date: date | None = None, decision_authority: str = "",
    decision_signer: str = "",
) -> EpisodeRead:
    """A supervisor accepts the proposed post-rehab episode: it starts at the previous
    episode's end, with the term of the rule for that episode's type and the person's age."""
    me = authorize_grant(session, actor, Action.EPISODE_DECIDE)
    previous = session.get(Episode, previous_episode_id)
    if previous is None:
        raise NotFound()
    authorize_client(session, me, Action.EPISODE_DECIDE, previous.client_id)
    still = session.exec(_pending_query(me).where(col(Episode.id) == previous_episode_id)).first()
    if still is None or previous.actual_end is None:
        raise ValidationFailed({"previous_episode_id": "error.no_post_rehab_due"})
    data = EpisodeCreate(
        episode_type=EpisodeType.POST_REHAB, start_date=previous.actual_end,
        decision_number=decision_number, decision_date=decision_date,
        decision_authority=decision_authority, decision_signer=decision_signer,
        previous_episode_id=previous_episode_id,
    )
    return episodes.open_episode(session=session, actor=me, client_id=previous.client_id,
                                 data=data)


MAX_REASON = 200


def dismiss_post_rehab(
    *, session: Session, actor: Actor | None, previous_episode_id: int, reason: str
) -> int:
    """A supervisor decides that no post-rehab episode follows this completed episode: the
    proposal leaves the list for good. The reason is required and kept; audited."""
    me = authorize_grant(session, actor, Action.EPISODE_DECIDE)
    previous = session.get(Episode, previous_episode_id)
    if previous is None:
        raise NotFound()
    authorize_client(session, me, Action.EPISODE_DECIDE, previous.client_id)
    text = required_reason(reason, MAX_REASON)
    still = session.exec(_pending_query(me).where(col(Episode.id) == previous_episode_id)).first()
    if still is None:
        raise ValidationFailed({"previous_episode_id": "error.no_post_rehab_due"})
    row = PostRehabDismissal(previous_episode_id=previous_episode_id, reason=text,
                             dismissed_by_id=me.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action=Action.EPISODE_DECIDE, target_type="episode",
                 target_id=previous_episode_id, detail=f"post-rehab dismissed: {text}"[:200])
    assert row.id is not None
    return row.id
