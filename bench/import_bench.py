"""Time a spreadsheet import of 20,000 rows: preview, then commit, through the real services.

    python -m bench.import_bench [--rows 20000] [--db-url URL]

Without --db-url a throw-away SQLite file is used. Prints one line per phase and a summary
line `import_bench rows=… preview_s=… commit_s=… rows_per_s=…`.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, SQLModel

import models  # noqa: F401  (registers every table)
from app.services.actor import load_actor
from app.services.audit import install_append_only_guard
from app.services.db import engine_for
from app.services.imports import SHEETS, commit_import, preview_import
from app.services.text import fold
from models import Place, PlaceKind, Role, RoleAssignment, User

FIRST_DAY = date(2024, 1, 1)


def _mix(rows: int) -> dict[str, int]:
    """How many rows of each kind: a commune's registers in the usual proportions."""
    clients = rows // 10
    visits = rows // 2
    tests = rows // 5
    contacts = rows // 10
    referrals = rows // 20
    support = rows - clients - visits - tests - contacts - referrals
    return {
        "clients": clients,
        "visits": visits,
        "tests": tests,
        "contacts": contacts,
        "referrals": referrals,
        "support": support,
    }


def build_file(rows: int, commune_code: str) -> bytes:
    mix = _mix(rows)
    n = mix["clients"]
    day = lambda i: (FIRST_DAY + timedelta(days=i % 600)).strftime("%d/%m/%Y")  # noqa: E731
    data: dict[str, list[list[Any]]] = {
        "clients": [
            [
                f"K{i}",
                f"Người Nhập Thử {i:05d}",
                "",
                1970 + i % 35,
                "",
                "Nam" if i % 3 else "Nữ",
                "",
                f"09{i:08d}",
                commune_code,
                f"Ấp {i % 9 + 1}",
                "",
                "",
                "",
                "",
                "",
                "",
                "Không",
                "01/01/2024",
                "Sử dụng ma túy",
            ]
            for i in range(n)
        ],
        # Visit j of client k is on day k + 3j: never two on one day for one client.
        "visits": [
            [f"K{i % n}", day(i % n + 3 * (i // n)), "Thăm tại nhà", "tư vấn", "", "", ""]
            for i in range(mix["visits"])
        ],
        "tests": [
            [
                f"K{i % n}",
                day(i % n + 5 * (i // n) + 1),
                "Âm tính" if i % 4 else "Dương tính",
                "",
                "",
                "",
                "",
            ]
            for i in range(mix["tests"])
        ],
        "contacts": [
            [
                day(i),
                commune_code,
                "Thân nhân" if i % 2 else "Người sử dụng ma túy",
                1 + i % 20,
                f"Buổi {i}",
            ]
            for i in range(mix["contacts"])
        ],
        "referrals": [
            [
                f"K{i % n}",
                "Xét nghiệm HIV" if i % 2 else "Khám sức khỏe",
                day(i % n + 7 * (i // n) + 2),
                "",
                "Có",
            ]
            for i in range(mix["referrals"])
        ],
        "support": [
            [
                f"K{i % n}",
                "Vay vốn",
                day(i % n + 11 * (i // n) + 4),
                "20.000.000",
                24,
                "Quỹ tái hòa nhập",
                "",
            ]
            for i in range(mix["support"])
        ],
    }
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    for spec in SHEETS:
        if spec.kind not in data:
            continue
        ws = wb.create_sheet(spec.title)
        ws.append([c.header for c in spec.columns])
        ws.append([c.note for c in spec.columns])
        for row in data[spec.kind]:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _setup(session: Session) -> tuple[int, str]:
    province = Place(
        code="B90", name="Tỉnh Thử Nhập", name_key=fold("Tỉnh Thử Nhập"), kind=PlaceKind.PROVINCE
    )
    session.add(province)
    session.flush()
    commune = Place(
        code="B9001",
        name="Xã Thử Nhập",
        name_key=fold("Xã Thử Nhập"),
        kind=PlaceKind.COMMUNE,
        parent_id=province.id,
    )
    user = User(username="bench.import", full_name="Bench Import", password_hash="-")
    session.add_all([commune, user])
    session.flush()
    assert user.id is not None
    session.add(RoleAssignment(user_id=user.id, role=Role.SUPERVISOR, place_id=commune.id))
    session.commit()
    return user.id, commune.code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--db-url", default="")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db_url or f"sqlite:///{Path(tmp) / 'import_bench.db'}"
        engine = engine_for(url)
        SQLModel.metadata.create_all(engine)
        install_append_only_guard(engine)
        with Session(engine, expire_on_commit=False) as session:
            user_id, commune_code = _setup(session)
            started = time.perf_counter()
            data = build_file(args.rows, commune_code)
            print(f"built file: {len(data) / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
            actor = load_actor(session, user_id=user_id, role=Role.SUPERVISOR)

            started = time.perf_counter()
            preview = preview_import(session=session, actor=actor, data=data)
            session.commit()
            preview_s = time.perf_counter() - started
            print(
                f"preview: ok={preview.ok} rows={preview.total_rows} errors={len(preview.errors)}"
                f" in {preview_s:.1f} s"
            )
            if not preview.ok:
                for err in preview.errors[:10]:
                    print("  ", err)

            started = time.perf_counter()
            result = commit_import(session=session, actor=actor, data=data)
            session.commit()
            commit_s = time.perf_counter() - started
            print(
                f"commit: committed={result.committed} created={sum(result.created.values())}"
                f" in {commit_s:.1f} s"
            )
        engine.dispose()
    rate = result.total_rows / commit_s if commit_s else 0.0
    print(
        f"import_bench rows={result.total_rows} preview_s={preview_s:.2f} "
        f"commit_s={commit_s:.2f} rows_per_s={rate:.0f} committed={result.committed}"
    )


if __name__ == "__main__":
    main()
