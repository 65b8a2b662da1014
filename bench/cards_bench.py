"""Printing cards: time per card of 1,000 cards on A4 sheets versus one sheet of ten.

    python -m bench.cards_bench [--cards 1000]

The cards are what `cards.card_print` produces (programme name, given name, grouped short
code, QR of `{base_url}/k#PREFIX-token`), rendered by `card_render.card_pdf(layout="a4")`.
The floor is one A4 sheet of ten cards made in the same run; the ratio is the time per card of
the big batch over the time per card of the floor (1.0 = perfectly linear).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.services.card_render import CARDS_PER_SHEET, CardPrint, card_pdf
from app.services.cards import format_short_code, new_card_token, new_short_code, qr_payload
from bench import names_vi

PER_CARD_RATIO_TARGET = 1.2  # the big batch may cost at most 20 % more per card than one sheet
BASE_URL = "https://donghanh.example.vn"


@dataclass(frozen=True)
class CardsResult:
    cards: int
    seconds: float
    pdf_bytes: int
    floor_cards: int
    floor_seconds: float

    @property
    def per_card_ms(self) -> float:
        return self.seconds / self.cards * 1000

    @property
    def floor_per_card_ms(self) -> float:
        return self.floor_seconds / self.floor_cards * 1000

    @property
    def ratio(self) -> float:
        return self.per_card_ms / self.floor_per_card_ms

    @property
    def ok(self) -> bool:
        return self.ratio <= PER_CARD_RATIO_TARGET


def make_cards(n: int, seed: int = 3) -> list[CardPrint]:
    rng = random.Random(seed)
    given = names_vi.GIVEN_NAMES_MALE + names_vi.GIVEN_NAMES_FEMALE
    return [
        CardPrint(
            programme_name="Chương trình Đồng Hành — Đồng Tháp",
            given_name=rng.choice(given),
            short_code=format_short_code(new_short_code()),
            payload=qr_payload(new_card_token(), BASE_URL, prefix="DH1"),
        )
        for _ in range(n)
    ]


def _best(fn: Callable[[], bytes], repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.process_time()
        size = len(fn())
        times.append(time.process_time() - started)
    return min(times), size


def run_cards(cards: int = 1000, repeat: int = 3, floor_repeat: int | None = None) -> CardsResult:
    """CPU seconds (best of `repeat`) for `cards` cards and for one sheet of ten."""
    big = make_cards(cards)
    sheet = make_cards(CARDS_PER_SHEET, seed=4)
    card_pdf(sheet, layout="a4")  # warm-up: fonts loaded, caches filled
    floor, _ = _best(lambda: card_pdf(sheet, layout="a4"), floor_repeat or max(2, repeat * 3))
    seconds, size = _best(lambda: card_pdf(big, layout="a4"), repeat)
    return CardsResult(cards, seconds, size, len(sheet), floor)


def format_result(r: CardsResult) -> str:
    return (
        f"  {r.cards} cards on {-(-r.cards // CARDS_PER_SHEET)} A4 sheets: {r.seconds:.2f} s, "
        f"{r.pdf_bytes / 1e6:.1f} MB PDF, {r.per_card_ms:.1f} ms/card\n"
        f"  one sheet of {r.floor_cards}: {r.floor_seconds * 1000:.0f} ms, "
        f"{r.floor_per_card_ms:.1f} ms/card\n"
        f"  per-card ratio {r.ratio:.2f} (target ≤ {PER_CARD_RATIO_TARGET}) "
        f"{'ok' if r.ok else 'MISSED'} (CPU time, best of several runs)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cards_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(format_result(run_cards(args.cards, args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
