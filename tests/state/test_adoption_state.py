"""The settings, facilities and referral-facility States of issue 15, driven without a browser
(real sessions in a real SQLite file, handlers called as Reflex would)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.pages.admin_settings import SettingsState
from app.pages.facilities import FacilitiesState
from app.pages.referral import ReferralState
from app.services import deployment
from models import AuditEvent, Organisation, OrgKind
from tests.factories import World, with_session_cookie
from tests.state.conftest import page_state, run, sign_in


class Upload:
    """What Reflex hands a handler for an uploaded file."""

    def __init__(self, data: bytes, name: str = "logo.png") -> None:
        self._data, self.name = data, name

    async def read(self, size: int = -1) -> bytes:
        return self._data if size < 0 else self._data[:size]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 100), "teal").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(world_db: World) -> Iterator[World]:
    yield world_db


def test_an_administrator_saves_the_settings_and_a_logo_on_the_screen(
    world: World, engine: Engine
) -> None:
    screen = page_state(SettingsState, sign_in(engine, "admin"))
    run(screen.load)
    assert screen.public_url == "" and screen.logo_src == ""
    run(screen.save, {"organisation_name": "Sở Y tế tỉnh A", "programme_name": "",
                      "public_url": "https://dh.tinh-a.gov.vn/", "contact_line": ""})
    assert screen.error == "" and screen.public_url == "https://dh.tinh-a.gov.vn"
    run(screen.save, {"public_url": "http://192.168.1.5:3000"})
    assert screen.fields.get("public_url")  # a private browser address is refused
    run(screen.upload_logo, [Upload(png())])
    assert screen.logo_src.startswith("data:image/png;base64,")
    with Session(engine) as s:
        assert deployment.read_settings(s).organisation_name == "Sở Y tế tỉnh A"
        assert deployment.public_url(s) == "https://dh.tinh-a.gov.vn"


def test_only_administrators_reach_the_settings_handlers(world: World, engine: Engine) -> None:
    screen = page_state(SettingsState, sign_in(engine, "sup_a"))
    run(screen.save, {"organisation_name": "X", "public_url": "https://x.vn"})
    with Session(engine) as s:
        assert deployment.read_settings(s).organisation_name == ""
        denied = s.exec(select(AuditEvent).where(AuditEvent.outcome == "denied",
                                                 AuditEvent.detail == "SettingsState.save"))
        assert denied.first() is not None


def test_a_provincial_supervisor_adds_a_facility_on_the_screen(world: World,
                                                                engine: Engine) -> None:
    screen = page_state(FacilitiesState, sign_in(engine, "sup_a"))
    run(screen.load)
    assert screen.province_id == str(world.province_a)  # their only province, chosen
    assert {r["id"] for r in screen.rows} == {str(world.facility_a)}
    run(screen.new)
    form: dict[str, Any] = {"name": "Trung tâm Y tế A", "kind": "health_facility",
                            "place_id": str(world.commune_a2), "address": "1 Hùng Vương",
                            "service_health": "on"}
    run(screen.save, {**form, "service_health": ""})
    assert screen.fields.get("services") and screen.editing == "new"
    run(screen.save, form)
    assert screen.error == "" and screen.editing == ""
    assert "Trung tâm Y tế A" in {r["name"] for r in screen.rows}
    with Session(engine) as s:
        org = s.exec(select(Organisation).where(Organisation.name == "Trung tâm Y tế A")).one()
        assert (org.kind, org.address) == (OrgKind.HEALTH_FACILITY, "1 Hùng Vương")


def test_a_commune_supervisor_gets_no_facility_screen(world: World, engine: Engine) -> None:
    screen = page_state(FacilitiesState, sign_in(engine, "sup_a1"))
    run(screen.load)
    assert screen.error and screen.rows == [] and screen.provinces == []


def test_the_referral_form_lists_facilities_by_the_chosen_service(
    world: World, engine: Engine
) -> None:
    screen = page_state(ReferralState, sign_in(engine, "vol_a1"))
    with_session_cookie(screen, sign_in(engine, "vol_a1"),
                        f"http://localhost/clients/{world.clients['a1']}/referral")
    with Session(engine) as s:
        legal = Organisation(name="Trợ giúp pháp lý A", kind=OrgKind.LEGAL_AID,
                             place_id=world.commune_a1)
        s.add(legal)
        s.commit()
    run(screen.load)
    assert {f["name"] for f in screen.facilities} == {"Cơ sở điều trị A"}  # legal: no service
    run(screen.pick_service, "mmt")
    assert [f["name"] for f in screen.offered] == ["Cơ sở điều trị A"]
    run(screen.pick_service, "legal_aid")
    assert screen.offered == []
    run(screen.pick_service, "<script>")
    assert screen.service == "treatment"
