"""Every screen at 360 px, in Vietnamese and in English: no accessibility violation (axe-core,
`color-contrast` and `target-size` included) and no interactive element smaller than 44×44.

Each role signs in once per language and walks all of its screens; collapsible sections are
opened first, so that what they hold is measured too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text

from app.services.demo import DEMO_PASSWORD
from tests.e2e.axe import ALL_IMPACTS, serious_violations
from tests.e2e.test_auth import sign_in

NARROW = {"width": 360, "height": 740}
MIN_TARGET = 44

# What can be tapped. A checkbox or radio inside its label is tapped through the label: the
# label is its target. Inline links inside a sentence are measured too (none are allowed).
SMALL_TARGETS_JS = """(min) => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
    + ' [role=button], [role=link], [role=checkbox], [role=radio], [role=tab]';
  const small = [];
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest('[aria-hidden=true], [inert], .dh-skip')) continue;
    // A drop zone's file input: hidden, opened by the zone's own button.
    if (el.matches('input[type=file]') && el.getBoundingClientRect().width <= 2) continue;
    let target = el;
    // A Radix text field: the whole frame around the input takes the tap.
    if (el.parentElement && el.parentElement.matches('.rt-TextFieldRoot, .rt-TextAreaRoot'))
      target = el.parentElement;
    if (el.matches('input[type=checkbox], input[type=radio], input[type=file]')
        && el.closest('label')) target = el.closest('label');
    const style = getComputedStyle(el);
    const box = target.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    if (box.width < min - 0.5 || box.height < min - 0.5) {
      const name = (el.getAttribute('aria-label') || el.innerText || el.id || el.name || '')
        .trim().slice(0, 40);
      small.push(`${el.tagName.toLowerCase()}#${el.id || ''} "${name}"`
        + ` ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""

OPEN_COLLAPSIBLES_JS = """() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  for (const b of document.querySelectorAll('.dh-disclosure[aria-expanded=false]')) b.click();
}"""

LOADED_JS = """() => !document.body.innerText.includes('Đang tải…')
  && !document.body.innerText.includes('Loading…')"""


def _client_id(e2e_db: Path, name: str) -> int:
    engine = create_engine(f"sqlite:///{e2e_db}")
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM client WHERE full_name = :n ORDER BY id"),
                             {"n": name}).first()
    engine.dispose()
    assert found is not None, name
    return int(found[0])


def screens(role: str, client_id: int) -> list[str]:
    client = f"/clients/{client_id}"
    return {
        "tnv.demo": ["/today", "/clients", "/clients/new", client, f"{client}/visit",
                     f"{client}/test", f"{client}/referral", f"{client}/support",
                     f"{client}/card", f"{client}/consent", f"{client}/law", "/outreach",
                     "/group-activity", "/scan", "/account"],
        "gs.demo": ["/caseload", "/caseload/terms", "/review", "/privacy", "/reports",
                    "/teams", "/import", "/facilities", "/clients", client, f"{client}/audit",
                    f"{client}/law", "/cards/print", "/account"],
        "yte.demo": ["/scan", "/account"],
        "qt.demo": ["/admin/users", "/admin/settings", "/admin/privacy", "/admin/rules",
                    "/facilities", "/account"],
    }[role]


@pytest.fixture
def narrow(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=NARROW, base_url=base_url, locale="vi-VN",
                                  has_touch=True, is_mobile=True)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def _use_language(page: Page, lang: str) -> None:
    page.evaluate("(lang) => localStorage.setItem('dh_lang', lang)", lang)


def _check_screen(page: Page, route: str, lang: str) -> list[str]:
    page.goto(route)
    expect(page.locator("main").first).to_be_visible()
    page.wait_for_function(LOADED_JS)
    page.wait_for_timeout(300)  # the last state delta drawn
    expect(page.locator("html")).to_have_attribute("lang", lang)  # read with the right voice
    page.evaluate(OPEN_COLLAPSIBLES_JS)
    page.wait_for_timeout(200)
    problems = [f"{route} [{lang}] {line}"
                for line in serious_violations(page, impacts=ALL_IMPACTS)]
    small = page.evaluate(SMALL_TARGETS_JS, MIN_TARGET)
    problems += [f"{route} [{lang}] under 44x44: {line}" for line in small]
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > NARROW["width"]:
        problems.append(f"{route} [{lang}] scrolls sideways: {width}px")
    return problems


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_signed_out_screens_fit_a_360px_phone(narrow: Page, lang: str) -> None:
    narrow.goto("/")
    _use_language(narrow, lang)
    problems: list[str] = []
    for route in ("/", "/k"):
        problems += _check_screen(narrow, route, lang)
    assert problems == []


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("login", ["tnv.demo", "gs.demo", "yte.demo", "qt.demo"])
def test_every_screen_of_each_role_fits_a_360px_phone(
    narrow: Page, e2e_db: Path, login: str, lang: str
) -> None:
    sign_in(narrow, login, DEMO_PASSWORD)
    expect(narrow.locator("#role-badge")).to_be_visible()
    _use_language(narrow, lang)
    problems: list[str] = []
    for route in screens(login, _client_id(e2e_db, "Nguyễn Văn An")):
        problems += _check_screen(narrow, route, lang)
    assert problems == [], "\n".join(problems)
