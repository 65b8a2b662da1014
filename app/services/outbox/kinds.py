"""The record kinds a device sends: each is the payload of one online form, applied by the
same service the form calls (same checks, same audit event, same submission key)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, SQLModel

from app.services import activities, clients
from app.services.actor import Actor
from app.services.dto import (
    ClientCreate,
    DrugTestCreate,
    GroupActivityCreate,
    OutreachContactCreate,
    ReferralCreate,
    SupportCreate,
    VisitCreate,
)
from app.services.policy import Action
from models import Client, DrugTest, GroupActivity, OutreachContact, Referral, Support, Visit

# (session, actor, parsed payload, submission key, confirmed) -> (record id, client id or None)
Apply = Callable[[Session, Actor, Any, str, bool], tuple[int, int | None]]
# What a record form checks before its service (choices among those it offers): field -> key.
FormCheck = Callable[[dict[str, Any]], dict[str, str]]


def _codes(value: Any, offered: tuple[str, ...]) -> bool:
    """A comma-separated list of codes, each one of those the form offers ("" for none)."""
    if not isinstance(value, str):
        return value is None
    return all(part.strip() in offered for part in value.split(",") if part.strip())


def _visit_form(payload: dict[str, Any]) -> dict[str, str]:
    return {name: "error.invalid_choice"
            for name, offered in (("content", activities.VISIT_CONTENTS),
                                  ("risk_flags", activities.VISIT_RISKS))
            if not _codes(payload.get(name, ""), offered)}


def _test_form(payload: dict[str, Any]) -> dict[str, str]:
    # The form makes the volunteer choose a sample and a method: nothing is assumed.
    errors = {name: "rec.error.choose_one"
              for name, offered in (("sample", activities.TEST_SAMPLES),
                                    ("method", activities.TEST_METHODS))
              if payload.get(name) not in offered}
    if not _codes(payload.get("substances", ""), activities.TEST_SUBSTANCES):
        errors["substances"] = "error.invalid_choice"
    return errors


def _no_form_check(_payload: dict[str, Any]) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Kind:
    name: str  # also the kind its submission key is remembered under
    dto: type[BaseModel]
    apply: Apply
    model: type[SQLModel]
    author_field: str  # who typed it: kept as the author when a supervisor applies it
    action: Action
    client_required: bool  # payload `client_id` names an assigned client
    form_check: FormCheck = _no_form_check


def _visit(db: Session, me: Actor, data: Any, key: str, _ok: bool) -> tuple[int, int | None]:
    read = activities.log_visit(session=db, actor=me, data=data, submission_key=key)
    return read.id, read.client_id


def _contact(db: Session, me: Actor, data: Any, key: str, _ok: bool) -> tuple[int, int | None]:
    read = activities.log_outreach_contact(session=db, actor=me, data=data, submission_key=key)
    return read.id, read.client_id


def _test(db: Session, me: Actor, data: Any, key: str, _ok: bool) -> tuple[int, int | None]:
    read = activities.record_drug_test(session=db, actor=me, data=data, submission_key=key)
    return read.id, read.client_id


def _referral(db: Session, me: Actor, data: Any, key: str, _ok: bool) -> tuple[int, int | None]:
    read = activities.create_referral(session=db, actor=me, data=data, submission_key=key)
    return read.id, read.client_id


def _support(db: Session, me: Actor, data: Any, key: str, _ok: bool) -> tuple[int, int | None]:
    read = activities.record_support(session=db, actor=me, data=data, submission_key=key)
    return read.id, read.client_id


def _group(db: Session, me: Actor, data: Any, key: str, _ok: bool) -> tuple[int, int | None]:
    read = activities.record_group_activity(session=db, actor=me, data=data, submission_key=key)
    return read.id, None


def _client(db: Session, me: Actor, data: Any, key: str, ok: bool) -> tuple[int, int | None]:
    read = clients.register_client(session=db, actor=me, data=data, confirm_duplicates=ok,
                                   submission_key=key)
    return read.id, read.id


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("visit", VisitCreate, _visit, Visit, "author_id", Action.VISIT_CREATE, True,
         _visit_form),
    Kind("outreach_contact", OutreachContactCreate, _contact, OutreachContact, "author_id",
         Action.CONTACT_CREATE, False),
    Kind("drug_test", DrugTestCreate, _test, DrugTest, "author_id", Action.TEST_CREATE, True,
         _test_form),
    Kind("referral", ReferralCreate, _referral, Referral, "author_id", Action.REFERRAL_CREATE,
         True),
    Kind("support", SupportCreate, _support, Support, "author_id", Action.SUPPORT_CREATE, True),
    Kind("group_activity", GroupActivityCreate, _group, GroupActivity, "author_id",
         Action.GROUP_CREATE, False),
    Kind("client", ClientCreate, _client, Client, "created_by_id", Action.CLIENT_CREATE, False),
)}
