"""Reports: pick a period and a place, read every figure of the province report by section,
open the people behind a figure, look at the trends, download PDF / Excel / line lists, print.

Figures and charts come from `app/services/reports.py`, files from `app/services/exports.py`;
the page only formats them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import reflex as rx

from app.components.client_cards import bi, bilingual, dmy, empty_note, section_heading
from app.components.forms import checked_form, field_error, focus_first_problem, form_message
from app.components.frame import app_frame
from app.i18n import t
from app.pages.caseload import as_int
from app.services import caseload, exports, reports
from app.services.calendar import today_vn
from app.services.exports import MIME_TYPES, LineListFilters
from app.services.reports import Figure, Report
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import ReferralStatus, Role

Row = dict[str, str]
PRESETS = ("q_current", "q_previous", "year_current", "year_previous", "custom")
_SELECT_STYLE = {
    "minHeight": "44px", "fontSize": "16px", "padding": "8px", "borderRadius": "8px",
    "border": "1px solid var(--gray-7)", "background": "white", "width": "100%",
}
PRINT_CSS = """
@media print {
  nav, #offline-banner, .no-print, #sign-out, #lang-switch { display: none !important; }
  main { padding: 0 !important; max-width: none !important; }
  body { background: white; }
  .rt-TableRoot { overflow: visible !important; }
}
"""
STATUS_COLOURS = {"sent": "#60a5fa", "received": "#0f766e", "used": "#16a34a",
                  "declined": "#dc2626", "expired": "#9ca3af"}


def quarter_of(day: date, back: int = 0) -> tuple[date, date]:
    """The calendar quarter containing `day`, or `back` quarters before it."""
    index = (day.year * 4 + (day.month - 1) // 3) - back
    year, q = divmod(index, 4)
    start = date(year, q * 3 + 1, 1)
    end_month = q * 3 + 3
    end = date(year + end_month // 12, end_month % 12 + 1, 1) - timedelta(days=1)
    return start, end


def preset_period(preset: str, today: date) -> tuple[date, date] | None:
    if preset == "q_current":
        return quarter_of(today)
    if preset == "q_previous":
        return quarter_of(today, 1)
    if preset == "year_current":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if preset == "year_previous":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return None


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def number_text(value: int | float, lang: str) -> str:
    """Digits grouped as each language writes them (vi: 1.619 and 26,4; en: 1,619 and 26.4)."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text


def _figure_row(fig: Figure, drillable: bool) -> Row:
    value = {lang: number_text(fig.value, lang) + (" đ" if fig.unit == "vnd" else "")
             for lang in ("vi", "en")}
    extra = {"vi": "", "en": ""}
    if fig.denominator is not None:
        for lang in ("vi", "en"):
            pct = fig.percent
            extra[lang] = t("sup.report.of", lang, total=number_text(fig.denominator, lang)) + (
                f" ({number_text(pct, lang)} %)" if pct is not None else "")
    return {
        "kind": "fig", "key": fig.key, "row_id": "fig-" + fig.key.replace(".", "-"),
        **bilingual("label", fig.key),
        "value_vi": value["vi"], "value_en": value["en"],
        "extra_vi": extra["vi"], "extra_en": extra["en"],
        "drill": "1" if drillable and fig.drilldown is not None else "",
        # The drill-down button is named by its figure (18 buttons, one name each).
        **{f"aria_{lang}": t("report.open_list_of", lang, figure=t(fig.key, lang),
                             value=value[lang]) for lang in ("vi", "en")},
    }


def report_rows(report: Report, drillable: bool) -> list[Row]:
    rows: list[Row] = []
    for section in report.sections:
        rows.append({"kind": "head", "key": section.key,
                     "row_id": "sec-" + section.key.replace(".", "-"),
                     **bilingual("label", section.key), "value_vi": "", "value_en": "",
                     "extra_vi": "", "extra_en": "", "drill": "", "aria_vi": "",
                     "aria_en": ""})
        rows += [_figure_row(f, drillable) for f in section.figures]
    return rows


class ReportsState(AppState):
    preset: str = "q_current"
    start: str = ""
    end: str = ""
    place_id: str = ""
    places: list[Row] = []
    title: str = ""
    rows: list[Row] = []
    trend: list[dict[str, Any]] = []
    referrals: list[dict[str, Any]] = []
    episode_types: list[dict[str, Any]] = []
    deidentified: bool = True
    drill_title: str = ""
    drill_rows: list[Row] = []
    drill_open: bool = False
    error: str = ""
    fields: dict[str, str] = {}
    loaded: bool = False
    # The period and place of the report on screen: what downloads and drill-downs use.
    _shown: tuple[int, str, str] | None = None
    _shown_place_name: str = ""
    # The organisation line of the deployment settings ("" = the programme's name).
    header: str = ""

    def _period(self) -> tuple[date, date] | None:
        return preset_period(self.preset, today_vn()) or (
            (_parse_date(self.start), _parse_date(self.end))  # type: ignore[return-value]
            if _parse_date(self.start) and _parse_date(self.end) else None)

    async def _build(self) -> None:
        self.error, self.fields = "", {}
        period, place = self._period(), as_int(self.place_id)
        if period is None or place is None:
            self.error = await self._text("error.validation")
            self.fields = {"start": await self._text("sup.report.pick_period")}
            return
        start, end = period
        self.start, self.end = start.isoformat(), end.isoformat()
        lang = await self._lang()
        outcome = await self._run(lambda db, actor: reports.province_report(
            session=db, actor=actor, place_id=place, period_start=start, period_end=end))
        self.loaded = True
        if outcome.value is None:
            self.error, self.fields, self.rows = outcome.error, outcome.fields, []
            self._shown = None
            return
        report = outcome.value
        actor = self._require_actor()
        self._shown = (place, self.start, self.end)
        self._shown_place_name = report.place_name
        self.header = report.header or t("report.header_default", lang)
        self.title = t("report.title", lang, place=report.place_name, start=dmy(start),
                       end=dmy(end))
        self.rows = report_rows(report, drillable=actor.role == Role.SUPERVISOR)
        self.trend = [{"month": p.month.strftime("%m/%Y"), "visits": p.visits,
                       "contacts": p.contacts} for p in report.trend]
        by_service: dict[str, dict[str, Any]] = {}
        for o in report.referral_outcomes:
            label = t(f"report.service.{o.service.value}", lang)
            by_service.setdefault(label, {"service": label, **{s.value: 0
                                                                 for s in ReferralStatus}})
            by_service[label][o.status.value] = o.count
        self.referrals = list(by_service.values())
        self.episode_types = [
            {"type": t(f"report.episode_type.{e.episode_type.value}", lang),
             "started": e.started, "live": e.live_at_end}
            for e in report.episode_types if e.started or e.live_at_end
        ]

    @guarded(Role.SUPERVISOR)
    async def load(self) -> Any:
        """on_load: the current quarter for the first place in scope."""
        outcome = await self._run(lambda db, actor: caseload.places_in_scope(
            session=db, actor=actor))
        places = outcome.value or []
        self.places = [{"id": str(p.place_id), "name": p.name,
                        "prefix": "" if p.is_province else "— "} for p in places]
        known = {p["id"] for p in self.places}
        if self.place_id not in known:
            self.place_id = self.places[0]["id"] if self.places else ""
        if not self.rows:
            self.preset = "q_current"
        await self._build()
        return None

    @guarded(Role.SUPERVISOR)
    async def run(self, form_data: dict[str, Any]) -> Any:
        preset = str(form_data.get("preset", "q_current"))
        self.preset = preset if preset in PRESETS else "q_current"
        self.start = str(form_data.get("start", ""))[:10]
        self.end = str(form_data.get("end", ""))[:10]
        place = str(form_data.get("place_id", ""))
        self.place_id = place if as_int(place) is not None else ""
        await self._build()
        return focus_first_problem("report-form") if self.fields else None

    @guarded(Role.SUPERVISOR)
    async def drill(self, figure_key: str) -> Any:
        key = str(figure_key)
        if key not in reports.drilldown_keys() or self._shown is None:
            return None
        place, start, end = self._shown
        outcome = await self._run(lambda db, actor: reports.report_drilldown(
            session=db, actor=actor, figure_key=key, place_id=place,
            period_start=date.fromisoformat(start), period_end=date.fromisoformat(end)))
        if outcome.value is None:
            self.error = outcome.error
            return None
        self.drill_title = await self._text(key)
        self.drill_rows = [{"id": str(c.id), "name": c.full_name, "year": str(c.birth_year),
                            "href": f"/clients/{c.id}"} for c in outcome.value]
        self.drill_open = True
        return None

    @guarded(Role.SUPERVISOR)
    async def close_drill(self, _open: bool = False) -> Any:
        self.drill_open = False
        return None

    @guarded(Role.SUPERVISOR)
    async def set_deidentified(self, value: bool) -> Any:
        self.deidentified = bool(value)
        return None

    @guarded(Role.SUPERVISOR)
    async def download_report(self, fmt: str) -> Any:
        if fmt not in ("pdf", "xlsx") or self._shown is None:
            return None
        place, start, end = self._shown
        lang = await self._lang()
        outcome = await self._run(lambda db, actor: exports.export_report(
            session=db, actor=actor, place_id=place, period_start=date.fromisoformat(start),
            period_end=date.fromisoformat(end), fmt=fmt, lang=lang))  # type: ignore[arg-type]
        if outcome.value is None:
            self.error = outcome.error
            return None
        name = exports.report_file_name(self._shown_place_name, date.fromisoformat(start),
                                        date.fromisoformat(end), fmt)
        return rx.download(data=outcome.value, filename=name, mime_type=MIME_TYPES[fmt])

    @guarded(Role.SUPERVISOR)
    async def download_line_list(self, fmt: str) -> Any:
        if fmt not in ("csv", "xlsx") or self._shown is None:
            return None
        place = self._shown[0]
        hidden, lang = self.deidentified, await self._lang()
        outcome = await self._run(lambda db, actor: exports.client_line_list(
            session=db, actor=actor, filters=LineListFilters(place_id=place),
            deidentified=hidden, fmt=fmt, lang=lang))  # type: ignore[arg-type]
        if outcome.value is None:
            self.error = outcome.error
            return None
        name = f"danh-sach{'-an-danh' if hidden else ''}-{today_vn().isoformat()}.{fmt}"
        return rx.download(data=outcome.value, filename=name, mime_type=MIME_TYPES[fmt])


# ---- view ----------------------------------------------------------------------------------


def _field(label_key: str, control: rx.Component, name: str) -> rx.Component:
    return rx.flex(
        rx.el.label(tr(label_key), html_for=name, font_weight="500"),
        control,
        field_error(ReportsState.fields.get(name, ""), field_id=name),
        direction="column", spacing="1", min_width="0",
    )


def _invalid(name: str) -> dict[str, Any]:
    fields: Any = ReportsState.fields
    return {"aria_invalid": rx.cond(fields.get(name, "") != "", "true", "false"),
            "aria_describedby": f"{name}-error"}


def _period_form() -> rx.Component:
    s = ReportsState
    return checked_form(
        rx.grid(
            _field("sup.report.place", rx.el.select(
                rx.foreach(s.places, lambda p: rx.el.option(p["prefix"] + p["name"],
                                                            value=p["id"])),
                id="place_id", name="place_id", default_value=s.place_id, style=_SELECT_STYLE,
            ), "place_id"),
            _field("sup.report.period", rx.el.select(
                *[rx.el.option(tr(f"sup.report.preset.{p}"), value=p) for p in PRESETS],
                id="preset", name="preset", default_value=s.preset, style=_SELECT_STYLE,
            ), "preset"),
            _field("sup.report.start", rx.input(type="date", id="start", name="start",
                                                default_value=s.start, size="3",
                                                width="100%", **_invalid("start")), "start"),
            _field("sup.report.end", rx.input(type="date", id="end", name="end",
                                              default_value=s.end, size="3", width="100%",
                                              **_invalid("end")),
                   "end"),
            columns=rx.breakpoints(initial="1", sm="2", md="4"),
            spacing="3",
        ),
        rx.text(tr("sup.report.custom_hint"), size="1", color="var(--gray-11)"),
        rx.button(rx.icon("chart-column", size=18, aria_hidden="true"), tr("sup.report.show"),
                  type="submit", size="3", margin_top="8px", id="report-run"),
        on_submit=s.run,
        key=s.start + s.end + s.preset + s.place_id,
        class_name="no-print",
        form_id="report-form",
    )


def _downloads() -> rx.Component:
    s = ReportsState

    def button(label_key: str, icon: str, handler: Any, button_id: str) -> rx.Component:
        return rx.button(rx.icon(icon, size=18, aria_hidden="true"), tr(label_key),
                         on_click=handler, size="3", variant="soft", id=button_id)

    return rx.flex(
        rx.flex(
            button("sup.report.pdf", "file-text", s.download_report("pdf"), "download-pdf"),
            button("sup.report.xlsx", "sheet", s.download_report("xlsx"), "download-xlsx"),
            button("sup.report.print", "printer", rx.call_script("window.print()"),
                   "print-report"),
            spacing="2", wrap="wrap",
        ),
        rx.flex(
            rx.el.label(
                rx.checkbox(checked=s.deidentified, on_change=ReportsState.set_deidentified,
                            size="3", id="deidentified"),
                tr("sup.report.deidentified"), html_for="deidentified",
                style={"display": "flex", "gap": "10px", "alignItems": "center",
                       "minHeight": "44px"},
            ),
            button("sup.report.list_csv", "file-down", s.download_line_list("csv"),
                   "download-list-csv"),
            button("sup.report.list_xlsx", "file-spreadsheet", s.download_line_list("xlsx"),
                   "download-list-xlsx"),
            spacing="2", wrap="wrap", align="center",
        ),
        direction="column", spacing="2", class_name="no-print", margin_y="8px",
    )


def _figure(row: Any) -> rx.Component:
    return rx.cond(
        row["kind"] == "head",
        rx.heading(bi(row, "label"), size="4", as_="h3", margin_top="16px", id=row["row_id"]),
        rx.flex(
            rx.text(bi(row, "label"), flex="1", min_width="180px"),
            rx.flex(
                rx.cond(
                    row["drill"] != "",
                    # Named by its figure after the number it shows (so the spoken name
                    # starts with what is seen).
                    rx.button(bi(row, "value"),
                              rx.el.span(" ", bi(row, "aria"), class_name="dh-sr-only"),
                              variant="ghost", size="3", weight="bold",
                              on_click=ReportsState.drill(row["key"]),
                              class_name="figure-value"),
                    rx.text(bi(row, "value"), weight="bold", size="3",
                            class_name="figure-value"),
                ),
                rx.text(bi(row, "extra"), size="2", color="var(--gray-11)", margin_left="8px"),
                spacing="2", align="center",
            ),
            justify="between", align="center", spacing="2", wrap="wrap", padding_y="6px",
            border_bottom="1px solid var(--gray-4)", id=row["row_id"],
        ),
    )


def _chart_box(title_key: str, chart: rx.Component, box_id: str) -> rx.Component:
    return rx.box(
        rx.heading(tr(title_key), size="3", as_="h3", margin_bottom="8px"),
        chart,
        padding="12px", border="1px solid var(--gray-5)", border_radius="12px",
        min_width="0", id=box_id,
    )


def _charts() -> rx.Component:
    s = ReportsState
    rc = rx.recharts
    return rx.grid(
        _chart_box("sup.chart.trend", rc.line_chart(
            rc.line(data_key="visits", name=tr("report.col.visits"), stroke="#0f766e",
                    stroke_width=2),
            rc.line(data_key="contacts", name=tr("report.col.contacts"), stroke="#b45309",
                    stroke_width=2),
            rc.x_axis(data_key="month"), rc.y_axis(allow_decimals=False), rc.legend(),
            rc.tooltip(), rc.cartesian_grid(stroke_dasharray="3 3"),
            data=s.trend, width="100%", height=260,
        ), "chart-trend"),
        _chart_box("sup.chart.referrals", rc.bar_chart(
            *[rc.bar(data_key=st.value, stack_id="a", name=tr(f"report.status.{st.value}"),
                     fill=STATUS_COLOURS[st.value]) for st in ReferralStatus],
            rc.x_axis(type_="number", allow_decimals=False),
            rc.y_axis(data_key="service", type_="category", width=130),
            rc.legend(), rc.tooltip(),
            data=s.referrals, layout="vertical", width="100%", height=300,
        ), "chart-referrals"),
        _chart_box("sup.chart.episodes", rc.bar_chart(
            rc.bar(data_key="started", name=tr("report.col.started"), fill="#60a5fa"),
            rc.bar(data_key="live", name=tr("report.col.live_at_end"), fill="#0f766e"),
            rc.x_axis(type_="number", allow_decimals=False),
            rc.y_axis(data_key="type", type_="category", width=150),
            rc.legend(), rc.tooltip(),
            data=s.episode_types, layout="vertical", width="100%", height=300,
        ), "chart-episodes"),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="3",
        margin_top="16px",
    )


def _drill_dialog() -> rx.Component:
    s = ReportsState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(s.drill_title),
            rx.text(tr("sup.report.people"), " ", s.drill_rows.length(), size="2"),
            rx.box(
                rx.foreach(s.drill_rows, lambda c: rx.flex(
                    rx.link(c["name"], href=c["href"], weight="medium"),
                    rx.text(c["year"], size="2", color="var(--gray-11)"),
                    justify="between", padding_y="8px", border_bottom="1px solid var(--gray-4)",
                )),
                max_height="60vh", overflow_y="auto", margin_y="8px", id="drill-list",
            ),
            rx.dialog.close(rx.button(tr("sup.close"), size="3", variant="soft")),
        ),
        open=s.drill_open,
        on_open_change=ReportsState.close_drill,
    )


def reports_page() -> rx.Component:
    s = ReportsState
    return app_frame(
        "nav.reports",
        rx.el.style(PRINT_CSS),
        rx.flex(
            _period_form(),
            form_message(s.error, rx.Var.create("")),
            rx.cond(
                s.rows.length() > 0,
                rx.fragment(
                    rx.text(s.header, weight="bold", size="2", margin_top="12px",
                            id="report-header"),
                    rx.heading(s.title, size="4", as_="h2", id="report-title"),
                    _downloads(),
                    rx.box(rx.foreach(s.rows, _figure), id="report-figures"),
                    section_heading("sup.chart.title"),
                    _charts(),
                ),
                rx.cond(s.loaded, empty_note("sup.report.none")),
            ),
            _drill_dialog(),
            direction="column",
            spacing="2",
        ),
    )
