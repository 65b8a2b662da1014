"""The Reflex app: pages, head tags for the installable web app, and nothing clever."""

import urllib.parse

import reflex as rx

from app.api import api_app
from app.api.route_shell import route_shell
from app.api.security import security_headers
from app.components.frame import connection_notice
from app.pages.account import AccountState, account_page
from app.pages.admin_privacy import AdminPrivacyState, admin_privacy_page
from app.pages.admin_rules import AdminRulesState, admin_rules_page
from app.pages.admin_settings import SettingsState, admin_settings_page
from app.pages.admin_users import AdminUsersState, admin_users_page
from app.pages.card_link import card_link_page
from app.pages.cards import CardState, PrintState, card_page, print_page
from app.pages.caseload import CaseloadState, caseload_page
from app.pages.clients import ClientsState, clients_page
from app.pages.consent_page import ConsentState, consent_page
from app.pages.drug_test import DrugTestState, drug_test_page
from app.pages.facilities import FacilitiesState, facilities_page
from app.pages.group_activity import GroupActivityState, group_activity_page
from app.pages.import_page import ImportState, import_page
from app.pages.law_records import LawRecordsState, law_records_page
from app.pages.law_terms import TermReviewState, terms_page
from app.pages.outreach import OutreachState, outreach_page
from app.pages.privacy_audit import ClientAuditState, client_audit_page
from app.pages.privacy_desk import PrivacyDeskState, privacy_desk_page
from app.pages.profile import ProfileState, profile_page
from app.pages.referral import ReferralState, referral_page
from app.pages.register import RegisterState, register_page
from app.pages.reports import ReportsState, reports_page
from app.pages.review import ReviewState, review_page
from app.pages.scan import ScanState, scan_page
from app.pages.signin import SecondFactorPageState, SignInState, second_factor_page, signin_page
from app.pages.support import SupportState, support_page
from app.pages.teams import TeamsState, teams_page
from app.pages.today import TodayState, today_page
from app.pages.visit import VisitState, visit_page
from app.state.session import AppState, SessionGate
from app.state.session_end import dropping_ended_tabs

# assets/icons/icon-192.png as SVG: the teal rounded square, two eyes and a mouth.
FAVICON = "data:image/svg+xml," + urllib.parse.quote(
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 192 192'>"
    "<rect x='11' y='11' width='171' height='171' rx='34' fill='#0f766e'/><g fill='#fff'>"
    "<circle cx='76.5' cy='80' r='21.5'/><circle cx='115' cy='80' r='21.5'/>"
    "<rect x='54' y='108' width='85' height='27' rx='13.5'/></g></svg>", safe=" =:/'")

app = rx.App(
    html_lang="vi",
    head_components=[
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.meta(name="theme-color", content="#0f766e"),
        # The tab's icon is the install icon drawn in a few bytes of SVG, inside the page: a
        # phone opening a page cold makes no request for it (issue 20; a PNG favicon was one
        # more round trip on a slow link, fetched while the page's data was still arriving).
        rx.el.link(rel="icon", href=FAVICON, type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href="/icons/icon-192.png"),
        # The device code (outbox, vault, offline screens, service worker: assets/device/),
        # loaded by its first lines once the page has drawn its data (boot.js, issue 20).
        rx.el.script(src="/device/boot.js", defer=True),
    ],
    # Bundled into the one stylesheet with Radix's (no extra request): see client_cards.py
    # (lists), theme.css (contrast and tap targets for the whole app) and device.css (the
    # device code's screens and status strip).
    stylesheets=["/lists.css", "/icons.css", "/forms.css", "/theme.css", "/device.css"],
    # Our routes first; a client's page and its forms answered with the app shell naming their
    # route's code (app/api/route_shell.py); the security headers around everything.
    api_transformer=[api_app(), route_shell, security_headers],
)
# Before any event the guard does not check (hydrate above all): a tab whose session is no
# longer live loses its page states first (see app/state/session.py).
app.add_middleware(SessionGate(), index=0)
# When a session ends (or expires), the page state of all its tabs is dropped at once.
app.register_lifespan_task(dropping_ended_tabs)
# Reflex's own connection toasts are in English with a technical description: our notice
# instead, in the app's language.
app.app_wraps[(5, "Overlay")] = lambda stateful: connection_notice() if stateful else None

app.add_page(
    signin_page,
    route="/",
    title="Đồng Hành",
    on_load=[AppState.redirect_if_signed_in, SignInState.load],
)
# The second step of signing in, for accounts with a second factor (a plain HTML form too).
app.add_page(
    second_factor_page,
    route="/second-factor",
    title="Đồng Hành",
    on_load=[AppState.redirect_if_signed_in, SecondFactorPageState.load],
)
# The supervisor's screens: Caseload (their home), Reports, Teams and models, Import.
app.add_page(caseload_page, route="/caseload", title="Đồng Hành",
             on_load=[AppState.check_session, CaseloadState.load, PrivacyDeskState.load_clocks,
                      ReviewState.load_count])
for route, page, load in (
    ("/reports", reports_page, ReportsState.load),
    ("/teams", teams_page, TeamsState.load),
    ("/import", import_page, ImportState.load),
    ("/review", review_page, ReviewState.load),
    ("/facilities", facilities_page, FacilitiesState.load),
):
    app.add_page(page, route=route, title="Đồng Hành", on_load=[AppState.check_session, load])
app.add_page(
    account_page,
    route="/account",
    title="Đồng Hành",
    on_load=[AppState.check_session, AccountState.load],
)
app.add_page(
    admin_users_page,
    route="/admin/users",
    title="Đồng Hành",
    on_load=[AppState.check_session, AdminUsersState.load],
)
app.add_page(
    admin_settings_page,
    route="/admin/settings",
    title="Đồng Hành",
    on_load=[AppState.check_session, SettingsState.load],
)
# The volunteer's day: Today (their home), My clients, Register, Profile.
for route, page, load in (
    ("/today", today_page, TodayState.load),
    ("/clients", clients_page, ClientsState.load),
    ("/clients/new", register_page, RegisterState.load),
    ("/clients/[client_id]", profile_page, ProfileState.load),
):
    app.add_page(page, route=route, title="Đồng Hành", on_load=[AppState.check_session, load])
# The volunteer's record forms (client-bound ones go back to the profile after a save).
for route, page, state in (
    ("/clients/[client_id]/visit", visit_page, VisitState),
    ("/clients/[client_id]/test", drug_test_page, DrugTestState),
    ("/clients/[client_id]/referral", referral_page, ReferralState),
    ("/clients/[client_id]/support", support_page, SupportState),
    ("/outreach", outreach_page, OutreachState),
    ("/group-activity", group_activity_page, GroupActivityState),
):
    app.add_page(page, route=route, title="Đồng Hành", on_load=[AppState.check_session, state.load])
# QR cards: scanning (clinic staff's home), the card link's landing, issuing and printing.
app.add_page(card_link_page, route="/k", title="Đồng Hành", on_load=AppState.redirect_if_signed_in)
for route, page, load in (
    ("/scan", scan_page, ScanState.load),
    ("/clients/[client_id]/card", card_page, CardState.load),
    ("/cards/print", print_page, PrintState.load),
):
    app.add_page(page, route=route, title="Đồng Hành", on_load=[AppState.check_session, load])
# Personal-data protection (issue 17): consent, who saw a record, the requests desk and
# break-glass, the administrator's breaches, audit, retention, terms and inventory.
for route, page, load in (
    ("/clients/[client_id]/consent", consent_page, ConsentState.load),
    ("/clients/[client_id]/audit", client_audit_page, ClientAuditState.load),
    ("/privacy", privacy_desk_page, PrivacyDeskState.load),
    ("/admin/privacy", admin_privacy_page, AdminPrivacyState.load),
):
    app.add_page(page, route=route, title="Đồng Hành", on_load=[AppState.check_session, load])
# The drug law (issue 16): a client's legal records, terms to review, the rule table.
for route, page, load in (
    ("/clients/[client_id]/law", law_records_page, LawRecordsState.load),
    ("/caseload/terms", terms_page, TermReviewState.load),
    ("/admin/rules", admin_rules_page, AdminRulesState.load),
):
    app.add_page(page, route=route, title="Đồng Hành", on_load=[AppState.check_session, load])
