"""The app's own catalogue of personal data: purposes, fields and their categories, who
receives what, how long it is kept, how it is protected — and the processing inventory built
from it (the content an impact-assessment file needs, PDPL Art 21–22, LAW.md P5).

Consents name purposes of this catalogue; the consent form prints it; the inventory export
reads it together with the retention terms, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.i18n import t
from app.services import audit
from app.services.actor import Actor
from app.services.policy import REFERRAL_SHARING, STATISTICS, Action, authorize_grant
from app.services.privacy.documents import Table, pdf_document, xlsx_document
from app.services.privacy.terms import term


@dataclass(frozen=True)
class Purpose:
    code: str
    # Fields (model.field) processed for this purpose.
    fields: tuple[str, ...]
    # Sensitive categories this purpose involves (shown as sensitive on the consent form).
    sensitive: tuple[str, ...]
    recipients: tuple[str, ...]  # i18n keys privacy.recipient.*
    retention: str  # a `privacyterm` code


_IDENTITY = ("client.full_name", "client.other_names", "client.birth_year", "client.birth_date",
             "client.sex", "client.national_id", "client.phone", "client.address",
             "client.former_address", "client.legal_rep_name", "client.legal_rep_phone",
             "client.family_contact", "client.photo_path")
_CASE = ("client.priority_group", "client.substances", "client.injects", "client.hiv_status",
         "client.ethnicity", "episode.*", "visit.*", "drugtest.*", "support.*", "card.*")

PURPOSES: dict[str, Purpose] = {
    "case_management": Purpose(
        "case_management", _IDENTITY + _CASE,
        ("drug_use", "test_results", "hiv_status", "ethnicity", "health", "police_records"),
        ("privacy.recipient.case_workers", "privacy.recipient.commune_police"),
        "retention.client_closed"),
    REFERRAL_SHARING: Purpose(
        REFERRAL_SHARING, ("client.full_name", "client.birth_year", "client.photo_path",
                           "referral.*"),
        ("drug_use", "health"), ("privacy.recipient.facilities",), "retention.client_closed"),
    STATISTICS: Purpose(
        STATISTICS, ("client.birth_year", "client.sex", "client.commune_id", "episode.*"),
        ("drug_use",), ("privacy.recipient.reports",), "retention.client_closed"),
    # The optional photo (app/services/photos.py): taken only with this consent, deleted
    # when it is withdrawn; seen by case workers and, after a scan, by the clinic.
    "photo": Purpose(
        "photo", ("client.photo_path",), (),
        ("privacy.recipient.case_workers", "privacy.recipient.facilities"),
        "retention.client_closed"),
}

# Which category each field belongs to (sensitive ones per Decree 356/2025 Art 4, P2).
FIELD_CATEGORY: dict[str, str] = {
    **{f: "basic" for f in _IDENTITY},
    "client.priority_group": "basic", "client.commune_id": "basic",
    "client.substances": "drug_use", "client.injects": "drug_use", "episode.*": "police_records",
    "client.hiv_status": "hiv_status", "client.ethnicity": "ethnicity",
    "visit.*": "health", "drugtest.*": "test_results", "support.*": "basic",
    "card.*": "basic", "referral.*": "health",
}
SENSITIVE_CATEGORIES = ("drug_use", "test_results", "hiv_status", "ethnicity", "health",
                        "police_records")
SECURITY_MEASURES = tuple(f"privacy.measure.{m}" for m in (
    "scope", "audit", "sessions", "passwords", "sensitive_fields", "cards", "offline",
    "backups", "breakglass"))


def purpose_codes() -> list[str]:
    return list(PURPOSES)


def inventory_tables(session: Session, lang: str) -> list[Table]:
    """The inventory as tables: purposes, data categories, recipients, retention, measures."""
    purposes: list[list[str]] = []
    for p in PURPOSES.values():
        keep = term(session, p.retention)
        purposes.append([
            t(f"privacy.purpose.{p.code}", lang),
            ", ".join(t(f"privacy.category.{c}", lang) for c in p.sensitive),
            ", ".join(t(r, lang) for r in p.recipients),
            t("privacy.inventory.retention_value", lang, years=keep.amount,
              basis=keep.legal_basis),
        ])
    fields = [[name, t(f"privacy.category.{cat}", lang),
               t("privacy.yes" if cat in SENSITIVE_CATEGORIES else "privacy.no", lang),
               ", ".join(t(f"privacy.purpose.{p.code}", lang) for p in PURPOSES.values()
                         if name in p.fields)]
              for name, cat in FIELD_CATEGORY.items()]
    measures = [[t(m, lang)] for m in SECURITY_MEASURES]
    return [
        Table(t("privacy.inventory.purposes", lang),
              [t(k, lang) for k in ("privacy.col.purpose", "privacy.col.sensitive",
                                    "privacy.col.recipients", "privacy.col.retention")],
              purposes),
        Table(t("privacy.inventory.fields", lang),
              [t(k, lang) for k in ("privacy.col.field", "privacy.col.category",
                                    "privacy.col.is_sensitive", "privacy.col.purpose")],
              fields),
        Table(t("privacy.inventory.measures", lang), [t("privacy.col.measure", lang)], measures),
    ]


def inventory_export(*, session: Session, actor: Actor | None, fmt: str,
                     lang: str = "vi") -> bytes:
    """The processing inventory as xlsx or PDF, for an administrator (audited)."""
    me = authorize_grant(session, actor, Action.PRIVACY_ADMIN)
    tables = inventory_tables(session, lang)
    title = t("privacy.inventory.title", lang)
    data = xlsx_document(tables) if fmt == "xlsx" else pdf_document(title, [], tables)
    audit.record(session, actor=me, action=Action.EXPORT, target_type="inventory",
                 target_id=None, detail=f"inventory fmt={fmt}")
    return data
