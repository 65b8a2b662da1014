"""Personal-data protection (Law 91/2025/QH15, Decree 356/2025/NĐ-CP; LAW.md P1–P5).

- consent: per purpose, who gave it and how, withdrawal effective at once, the printed form;
- record_audit: "Ai đã xem hồ sơ này" and everything one account read;
- requests: the register of data subjects' requests on the legal clock;
- breaches: discovery, the 72-hour notification countdown, the written record;
- rights: correction, restriction and objection carried out from the register;
- retention: the schedule, its dry run and the anonymising run;
- breakglass: emergency access to one client outside one's scope;
- inventory: the catalogue of purposes and fields, and the processing inventory export;
- terms: every term above as an editable row; anonymise, documents: shared by the others.
Working days and holidays are in app/services/calendar.py.
"""

from app.services.privacy.anonymise import anonymise_client, legal_hold
from app.services.privacy.breaches import (
    BreachInput,
    BreachView,
    breach_record_pdf,
    list_breaches,
    mark_notified,
    record_breach,
)
from app.services.privacy.breakglass import (
    REASONS,
    GlassView,
    close_glass,
    my_openings,
    open_glass,
    openings_to_review,
    own_supervisors,
)
from app.services.privacy.consent import (
    ConsentGiven,
    ConsentView,
    consent_form_pdf,
    consents_of,
    record_consent,
    withdraw_consent,
)
from app.services.privacy.inventory import PURPOSES, SENSITIVE_CATEGORIES, inventory_export
from app.services.privacy.record_audit import (
    KINDS,
    AuditRow,
    account_audit,
    client_audit,
    client_audit_export,
    find_account,
)
from app.services.privacy.requests import (
    RequestReceived,
    RequestView,
    access_export,
    acknowledge,
    answer,
    answer_letter,
    due_dates,
    execute_deletion,
    list_requests,
    receive_request,
)
from app.services.privacy.retention import RetentionPlan, apply, plan
from app.services.privacy.rights import (
    CORRECTABLE,
    LIMITABLE,
    LimitView,
    execute_correction,
    execute_objection,
    execute_restriction,
    lift_limit,
    running_limits,
)
from app.services.privacy.terms import list_terms, seed_terms, term, update_term

__all__ = [
    "CORRECTABLE",
    "KINDS",
    "LIMITABLE",
    "PURPOSES",
    "REASONS",
    "SENSITIVE_CATEGORIES",
    "AuditRow",
    "BreachInput",
    "BreachView",
    "ConsentGiven",
    "ConsentView",
    "GlassView",
    "LimitView",
    "RequestReceived",
    "RequestView",
    "RetentionPlan",
    "access_export",
    "account_audit",
    "acknowledge",
    "anonymise_client",
    "answer",
    "answer_letter",
    "apply",
    "breach_record_pdf",
    "client_audit",
    "client_audit_export",
    "close_glass",
    "consent_form_pdf",
    "consents_of",
    "due_dates",
    "execute_correction",
    "execute_deletion",
    "execute_objection",
    "execute_restriction",
    "find_account",
    "inventory_export",
    "legal_hold",
    "lift_limit",
    "list_breaches",
    "list_requests",
    "list_terms",
    "mark_notified",
    "my_openings",
    "open_glass",
    "openings_to_review",
    "own_supervisors",
    "plan",
    "receive_request",
    "record_breach",
    "record_consent",
    "running_limits",
    "seed_terms",
    "term",
    "update_term",
    "withdraw_consent",
]
