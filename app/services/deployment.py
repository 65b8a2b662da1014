"""Deployment settings an administrator sets on a screen: who the organisation is, where cards
point, how to reach it. Stored in the database (`setting`, `settingfile`), every change audited.

- *Organisation name* (the department or agency running the programme — data, never code,
  since the duty moved from Labour to Public Security and Health in 2025): the header line of
  reports and exports (`reports.report_header` reads the same row).
- *Programme name on cards*: the neutral wording printed on QR cards (`cards.programme_name`
  reads the same row); it must not say "drugs", so it is separate from the organisation name.
- *Logo*: printed on reports (PDF, Excel) and on cards; any PNG/JPEG/WebP up to 1 MB,
  re-encoded here as a PNG of at most 400 × 400 px (nothing of the uploaded file but its pixels
  is kept).
- *Public address*: the https address QR cards link to. Until it is set cards carry only the
  bare token (the in-app scanner reads it; a phone camera does not open it) — a card never
  carries whatever host the issuing browser happened to use. `DH_PUBLIC_URL` in the
  environment is the fallback of older installs.
- *Contact line*: printed under the reports and on the sign-in page of a card link.
- *Second factor required* per role (`auth.second_factor.<role>` rows, read by
  `second_factor.required_for`): on for supervisors and administrators in a fresh deployment.
- *Data-protection officer* (PDPL Art 33, LAW.md P5): name and contact (phone or e-mail) of
  the person or unit answering for personal data, printed on the consent form (the privacy
  notice the person signs) and shown on the requests desk (/privacy).

Any administrator may change them (`Action.PLACE_ADMIN`: the deployment's reference data).
Reading them needs no right: nothing here is personal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session, col, select

from app.services import audit, second_factor
from app.services.actor import Actor
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.policy import Action, authorize_grant
from app.services.reports import CONTACT_SETTING, HEADER_SETTING
from app.services.setting_rows import setting_text, write_setting
from app.services.settings import load_settings
from app.services.text import clean
from models import Role, RoleAssignment, SettingFile, utcnow

# The same rows the report header and the card programme name have always been read from.
ORGANISATION_NAME = HEADER_SETTING
PROGRAMME_NAME = "card.programme_name"  # = cards.PROGRAMME_NAME_SETTING (cards imports us)
PUBLIC_URL = "deployment.public_url"
CONTACT_LINE = CONTACT_SETTING
LOGO = "deployment.logo"
DPO_NAME = "privacy.dpo_name"
DPO_CONTACT = "privacy.dpo_contact"

MAX_LOGO_BYTES = 1_000_000
LOGO_BOX = 400
_MAX_PIXELS = 25_000_000


@dataclass(frozen=True)
class DeploymentSettings:
    organisation_name: str
    programme_name: str
    public_url: str  # "" = not set (cards carry the bare token)
    contact_line: str
    has_logo: bool
    dpo_name: str = ""
    dpo_contact: str = ""


@dataclass(frozen=True)
class SettingsInput:
    organisation_name: str
    programme_name: str
    public_url: str
    contact_line: str
    dpo_name: str = ""
    dpo_contact: str = ""


def public_url(session: Session) -> str:
    """Where QR cards link to: the address set on the settings screen, else DH_PUBLIC_URL,
    else "" (never the browser's own host)."""
    return setting_text(session, PUBLIC_URL) or load_settings().public_url


def contact_line(session: Session) -> str:
    return setting_text(session, CONTACT_LINE)


def dpo(session: Session) -> tuple[str, str]:
    """(name, contact) of the data-protection officer; "" where not set."""
    return setting_text(session, DPO_NAME), setting_text(session, DPO_CONTACT)


def dpo_line(session: Session) -> str:
    """"Name — contact" of the data-protection officer, "" when neither is set."""
    return " — ".join(part for part in dpo(session) if part)


def read_settings(session: Session) -> DeploymentSettings:
    name, contact = dpo(session)
    return DeploymentSettings(
        organisation_name=setting_text(session, ORGANISATION_NAME),
        programme_name=setting_text(session, PROGRAMME_NAME),
        public_url=public_url(session),
        contact_line=contact_line(session),
        has_logo=session.get(SettingFile, LOGO) is not None,
        dpo_name=name, dpo_contact=contact,
    )


def logo_png(session: Session) -> bytes | None:
    row = session.get(SettingFile, LOGO)
    return bytes(row.content) if row is not None else None


def normalise_public_url(raw: str) -> str | None:
    """`https://host[:port][/path]` without query, fragment or credentials, no trailing slash;
    None if it is not one. Plain http only for localhost (tests, a machine without TLS)."""
    text = raw.strip().rstrip("/")
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    local = host in ("localhost", "127.0.0.1")
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local):
        return None
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        return None
    if any(ch.isspace() for ch in text) or len(text) > 200:
        return None
    netloc = host + (f":{port}" if port else "")
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def update_settings(
    *, session: Session, actor: Actor | None, data: SettingsInput
) -> DeploymentSettings:
    """Save the text settings (audited with the names of the ones that changed)."""
    me = authorize_grant(session, actor, Action.PLACE_ADMIN, target_type="setting")
    errors: dict[str, str] = {}
    org, programme = clean(data.organisation_name), clean(data.programme_name)
    contact = clean(data.contact_line)
    dpo_name, dpo_contact = clean(data.dpo_name), clean(data.dpo_contact)
    url = normalise_public_url(data.public_url)
    if len(org) > 200:
        errors["organisation_name"] = "error.too_long"
    if len(programme) > 80:
        errors["programme_name"] = "error.too_long"
    if len(contact) > 200:
        errors["contact_line"] = "error.too_long"
    if len(dpo_name) > 120:
        errors["dpo_name"] = "error.too_long"
    if len(dpo_contact) > 200:
        errors["dpo_contact"] = "error.too_long"
    if url is None:
        errors["public_url"] = "deploy.error.public_url"
    if errors:
        raise ValidationFailed(errors)
    assert url is not None
    changed = [key for key, value in ((ORGANISATION_NAME, org), (PROGRAMME_NAME, programme),
                                      (PUBLIC_URL, url), (CONTACT_LINE, contact),
                                      (DPO_NAME, dpo_name), (DPO_CONTACT, dpo_contact))
               if write_setting(session, key, value)]
    session.flush()
    if changed:
        audit.record(session, actor=me, action="settings.update", target_type="setting",
                     target_id=None, detail="changed=" + ",".join(changed))
    return read_settings(session)


def logo_from_upload(content: bytes) -> bytes:
    """The uploaded image as a PNG fitting LOGO_BOX; ValidationFailed if it is not an image."""
    if not content or len(content) > MAX_LOGO_BYTES:
        raise ValidationFailed({"logo": "deploy.error.logo_size"})
    try:
        with Image.open(io.BytesIO(content)) as probe:
            if probe.format not in ("PNG", "JPEG", "WEBP"):
                raise ValidationFailed({"logo": "deploy.error.logo_type"})
            if probe.width * probe.height > _MAX_PIXELS:
                raise ValidationFailed({"logo": "deploy.error.logo_size"})
            probe.load()
            image = probe.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as err:
        raise ValidationFailed({"logo": "deploy.error.logo_type"}) from err
    image.thumbnail((LOGO_BOX, LOGO_BOX))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def set_logo(*, session: Session, actor: Actor | None, content: bytes) -> DeploymentSettings:
    """Replace the logo with an uploaded image (audited)."""
    me = authorize_grant(session, actor, Action.PLACE_ADMIN, target_type="setting")
    png = logo_from_upload(content)
    row = session.get(SettingFile, LOGO)
    if row is None:
        row = SettingFile(key=LOGO, content=png, updated_by_id=me.user_id)
    row.content, row.media_type = png, "image/png"
    row.updated_at, row.updated_by_id = utcnow(), me.user_id
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action="settings.logo", target_type="setting",
                 target_id=None, detail=f"bytes={len(png)}")
    return read_settings(session)


def remove_logo(*, session: Session, actor: Actor | None) -> DeploymentSettings:
    me = authorize_grant(session, actor, Action.PLACE_ADMIN, target_type="setting")
    row = session.get(SettingFile, LOGO)
    if row is not None:
        session.delete(row)
        session.flush()
        audit.record(session, actor=me, action="settings.logo_removed", target_type="setting",
                     target_id=None)
    return read_settings(session)


def set_second_factor_requirement(
    *, session: Session, actor: Actor | None, role: Role, required: bool
) -> dict[Role, bool]:
    """Require a second factor of every account in `role`, or make it optional (audited). A
    user of a role newly requiring it gets a session that may only enrol until they do.
    National administrators only: it weakens or strengthens every account of the deployment
    (a refusal is audited)."""
    me = authorize_grant(session, actor, Action.PLACE_ADMIN, target_type="setting")
    national = session.exec(select(RoleAssignment.id).where(
        RoleAssignment.user_id == me.user_id, RoleAssignment.role == Role.ADMIN,
        col(RoleAssignment.place_id).is_(None), col(RoleAssignment.facility_id).is_(None),
    )).first()
    if national is None:
        audit.record(session, actor=me, action="settings.second_factor", target_type="setting",
                     target_id=None, outcome="denied", detail="reason=not_national")
        session.commit()
        raise PermissionDenied("deploy.error.national_only")
    if second_factor.set_required(session, role=role, required=required):
        audit.record(session, actor=me, action="settings.second_factor", target_type="setting",
                     target_id=None, detail=f"role={role.value} required={int(required)}")
    return second_factor.requirement(session)
