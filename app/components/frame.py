"""The responsive app frame: bottom navigation on phones, side navigation on wide screens."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx
from reflex_base.components.component import Component
from reflex_base.components.memoize_helpers import is_snapshot_boundary
from reflex_base.vars import VarData
from reflex_components_core.base.bare import Bare
from reflex_components_core.core.banner import has_too_many_connection_errors

from app.components.client_cards import page_link
from app.components.forms import saved_notice, without_unused_refs
from app.components.offline_panel import offline_panel
from app.icon_css import css_icon
from app.state.lang import IN_ENGLISH, LangState, texts_of, tr
from app.state.session import AppState

BRAND = "#0f766e"  # teal 700: calm, neutral, good contrast on white


@dataclass(frozen=True)
class NavItem:
    key: str
    route: str
    icon: str
    roles: tuple[str, ...]


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("nav.today", "/today", "house", ("volunteer",)),
    NavItem("nav.clients", "/clients", "users", ("volunteer", "supervisor")),
    NavItem("nav.contacts", "/outreach", "megaphone", ("volunteer",)),
    NavItem("nav.caseload", "/caseload", "clipboard-list", ("supervisor",)),
    NavItem("nav.reports", "/reports", "chart-column", ("supervisor",)),
    NavItem("nav.teams", "/teams", "users-round", ("supervisor",)),
    NavItem("outbox.review.nav", "/review", "inbox", ("supervisor",)),
    NavItem("nav.scan", "/scan", "scan-line", ("volunteer", "clinic")),
    # Supervisors reach /privacy from their home (its clocks): their bar is full.
    NavItem("nav.privacy", "/privacy", "shield-check", ("clinic",)),
    NavItem("nav.users", "/admin/users", "user-cog", ("admin",)),
    NavItem("nav.settings", "/admin/settings", "settings", ("admin",)),
    NavItem("nav.facilities", "/facilities", "hospital", ("admin",)),
    NavItem("nav.privacy", "/admin/privacy", "shield-check", ("admin",)),
    NavItem("law.rules.nav", "/admin/rules", "scale", ("admin",)),
    NavItem(
        "nav.account", "/account", "circle-user", ("volunteer", "supervisor", "clinic", "admin")
    ),
)


ROLES = ("volunteer", "supervisor", "clinic", "admin")

# Pages whose title is not the label of their navigation entry.
_NAV_KEY_BY_TITLE = {"rec.outreach.title": "nav.contacts", "law.rules.title": "law.rules.nav",
                     "outbox.review.title": "outbox.review.nav",
                     "privacy.desk.title": "nav.privacy", "privacy.admin.title": "nav.privacy"}


def _nav_link(item: NavItem, active: rx.Var[str]) -> rx.Component:
    """One entry, marked when `active` (the page's navigation key) is its own. Plain elements
    with classes (assets/lists.css, assets/icons.css): icon above a short label on phones,
    beside it from 768 px (Radix's `sm:` layout classes; the label's size by lists.css, as the
    build drops Radix's per-breakpoint sizes)."""
    return page_link(
        rx.el.div(
            css_icon(item.icon, 22),
            rx.el.p(tr(item.key), class_name="rt-Text rt-r-weight-medium dh-nav-label"),
            class_name="rt-Flex rt-r-ai-center rt-r-fd-column rt-r-gap-1 sm:rt-r-fd-row "
                       "sm:rt-r-gap-3",
        ),
        href=item.route,
        # The current page's look follows this mark (assets/lists.css).
        aria_current=rx.cond(active == item.key, "page", "false"),
        cls="dh-nav-link",
    )


def greeting() -> rx.Component:
    """Who is signed in, and in which role: the top of every role's home screen.

    Name and role arrive from the server after the page shows; they sit one under the other
    and the badge keeps its place while hidden, so their arrival moves nothing below.
    Plain elements wearing what Radix's Flex, Heading and Badge render."""
    return rx.el.div(
        rx.el.h2(tr("home.hello"), " ", AppState.display_name, id="welcome",
                 class_name="rt-Heading rt-r-size-5"),
        rx.el.span(
            rx.match(
                AppState.nav_role,
                *[(role, tr(f"role.{role}")) for role in ("volunteer", "supervisor", "clinic")],
                tr("role.admin"),
            ),
            id="role-badge",
            class_name="rt-reset rt-Badge rt-r-size-2 rt-variant-soft rt-high-contrast dh-fit",
            custom_attrs={"data-accent-color": ""},
            style={"visibility": rx.cond(AppState.nav_role == "", "hidden", "visible")},
        ),
        class_name="rt-Flex rt-r-fd-column rt-r-ai-start rt-r-gap-1",
    )


def language_switch() -> rx.Component:
    return rx.button(
        rx.icon("languages", size=18, aria_hidden="true"),
        tr("lang.switch"),
        on_click=LangState.toggle_language,
        variant="ghost",
        size="3",
        aria_label=tr("lang.switch_label"),
        id="lang-switch",
    )


def _top_bar(title: rx.Var[str]) -> rx.Component:
    """The screen's title and sign-out. The language is chosen on the account screen (and on
    sign-in): next to sign-out, a slip of the thumb switched the whole app's language.
    Plain elements wearing Radix's classes (what its Heading and Button render)."""
    return rx.el.header(
        rx.el.h1(title, class_name="rt-Heading rt-r-size-5"),
        rx.el.button(
            css_icon("log-out", 18),
            rx.el.span(tr("signout")),
            on_click=AppState.sign_out,
            aria_label=tr("signout"),
            id="sign-out",
            type="button",
            class_name="rt-reset rt-BaseButton rt-r-size-3 rt-variant-soft rt-high-contrast "
                       "rt-Button",
            custom_attrs={"data-accent-color": ""},
        ),
        class_name="dh-topbar",
    )


def _nav(active: rx.Var[str]) -> rx.Component:
    """The one navigation: a bar fixed at the bottom on phones, a column at the left from
    768 px (assets/lists.css, `.dh-nav`). Drawn once, not once per layout, and keyed by role
    (one `rx.match`, not a condition per entry): until the role is known it holds nothing.
    It comes after the content, as a phone's bottom bar does; CSS puts it first on wide
    screens. `active`: the page's navigation key, marked as the current page."""
    def links(role: str) -> rx.Component:
        return rx.fragment(*[_nav_link(item, active) for item in NAV_ITEMS if role in item.roles])

    return rx.el.nav(
        rx.el.h1(tr("app.name"), class_name="rt-Heading rt-r-size-5 dh-nav-brand"),
        rx.el.div(
            rx.match(AppState.nav_role, *[(role, links(role)) for role in ROLES],
                     rx.fragment()),
            class_name="dh-nav-items",
        ),
        aria_label=tr("nav.main"),
        class_name="dh-nav",
    )


def offline_banner() -> rx.Component:
    """The app's offline notice (the device code, assets/device/, shows its own status strip)."""
    return rx.box(
        tr("common.offline"),
        id="offline-banner",
        role="status",
        display="none",
        background="#92400e",
        color="white",
        padding="8px",
        text_align="center",
        font_size="14px",
    )


@rx.memo
def app_chrome(children: rx.Var[rx.Component], title: rx.Var[str], active: rx.Var[str]
               ) -> rx.Component:
    """The frame around every signed-in screen's content (`children`): offline notice, top bar
    with the screen's `title`, the device's status strip, the saved notice, and the
    navigation with `active` (a navigation key) marked.

    One shared component (`rx.memo`), in one build file every screen shares, instead of drawn
    into each screen's own code: the navigation's ~20 entries and the rest of the frame were
    the largest part of each screen's module, downloaded again with every screen the service
    worker keeps for offline use (issue 20)."""
    return rx.el.div(
        rx.el.div(
            offline_banner(),
            _top_bar(title),
            offline_panel(),
            rx.el.main(
                saved_notice(),
                children,
                id="main",
                padding="16px",
                # Room for the navigation bar; the device adds its strip's as a margin.
                padding_bottom="96px",
                max_width="960px",
                width="100%",
            ),
            class_name="dh-frame-content",
        ),
        _nav(active),
        class_name="dh-frame",
    )


@rx.memo
def translated(vi: rx.Var[str], en: rx.Var[str]) -> rx.Component:
    """A translated text drawn on its own (`shared_texts`): one shared component, here in the
    build file every screen loads with the frame."""
    return rx.fragment(rx.cond(IN_ENGLISH, en, vi))


def shared_texts(screen: rx.Component) -> rx.Component:
    """`screen` with each tr() text that Reflex would draw as a component of its own (a child
    of an element, outside a component drawn as one piece) drawn by `translated` instead.
    Reflex writes one such component per text into the screen's code, ~90 on the offline
    screens (its definition with the language test, each time); the texts are now props of one
    shared component: ~1.2 KB less in the service worker's pack (issue 20). As many components
    on the page as before."""
    seen: set[int] = set()
    pending: list[Component] = [screen]
    while pending:
        node = pending.pop()
        if id(node) in seen or is_snapshot_boundary(node):
            continue  # drawn as one piece: its texts are already inside its own code
        seen.add(id(node))
        children = list(node.children)
        for i, child in enumerate(children):
            texts = texts_of(child.contents) if isinstance(child, Bare) else None
            if texts is not None:
                children[i] = translated(vi=texts[0], en=texts[1])
        if children != list(node.children):
            node.children = children
            node._clear_compile_caches()
        pending.extend(c for c in (*children, *node._get_components_in_props())
                       if isinstance(c, Component))
    return screen


def app_frame(title_key: str, *children: rx.Component) -> rx.Component:
    """Every signed-in screen: top bar, content, role-aware navigation (`app_chrome`); its
    ids without React refs where nothing reads one (`forms.without_unused_refs`), its texts
    drawn by one shared component (`shared_texts`)."""
    return shared_texts(without_unused_refs(app_chrome(
        *children, title=tr(title_key), active=_NAV_KEY_BY_TITLE.get(title_key, title_key))))


def _page_language() -> rx.Component:
    """The page's `lang` follows the app's language (a screen reader then reads English text
    with an English voice): set on the <html> element whenever it changes."""
    lang = LangState.lang
    effect = f"useEffect(() => {{ document.documentElement.lang = {lang!s}; }}, [{lang!s}]);"
    return rx.fragment(rx.Var(
        "null", _var_data=VarData.merge(lang._get_all_var_data(), VarData(hooks={effect: None})),
    ))


def _page_drawn() -> rx.Component:
    """Tells the device code (assets/device/) when the page has drawn what it was opened for.

    Reflex marks a page hydrated once its on_load handlers have run and their data has reached
    the browser; this effect runs after that render. It marks `<html data-dh-drawn="<path>">`
    with the path it was drawn for (removed while a new page loads: a value for another path is
    the last page's) and sends the window a `dh:page-drawn` event. The device keeps its
    own requests (its key and caseload, the service worker) until then, so that on a slow link
    they do not compete with the page's data (issue 20)."""
    drawn = rx.State.is_hydrated
    effect = (
        f"useEffect(() => {{ const el = document.documentElement; if ({drawn!s}) {{ "
        f'el.setAttribute("data-dh-drawn", window.location.pathname); '
        f'window.dispatchEvent(new Event("dh:page-drawn")); '
        f'}} else {{ el.removeAttribute("data-dh-drawn"); }} }}, [{drawn!s}]);'
    )
    return rx.fragment(rx.Var(
        "null", _var_data=VarData.merge(drawn._get_all_var_data(), VarData(hooks={effect: None})),
    ))


def connection_notice() -> rx.Component:
    """Replaces Reflex's own connection toasts (English only, with a technical description):
    when the server cannot be reached, one calm line in the app's language, announced.
    An app wrap: the page comes as its children, after this fragment's own box. It also keeps
    the page's `lang` in step with the app's language and says when the page is drawn."""
    return rx.fragment(_page_language(), _page_drawn(), rx.box(
        rx.cond(
            has_too_many_connection_errors,
            rx.flex(
                rx.icon("wifi-off", size=18, aria_hidden="true"),
                rx.text(tr("common.connection_lost")),
                align="center",
                spacing="2",
                id="connection-lost",
                background="#92400e",
                color="white",
                padding="10px 16px",
                position="fixed",
                top="0",
                left="0",
                right="0",
                z_index="50",
            ),
        ),
        role="status",
    ))
