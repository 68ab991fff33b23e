"""Board pictures: render time of a 20-row board, PNG size, and memory over 1,000 renders.

In this process: `render_png` (bot/formatting/board_image.py) on a 20-row scheduled board with
international names (Latin, Cyrillic, Arabic, CJK falling back to the RA name, emoji, Zalgo, a
200-character name) and changes on every row, 1,000 times; then the same through
`BoardPictures.render` (the worker thread the bot uses), to show what the thread hop adds.
Baseline, measured in the same run: encoding a blank picture of the same size as PNG, the floor
of any renderer that outputs the same pixels.

Targets: p99 <= 60 ms; PNG <= 250 KB; resident memory after 1,000 renders <= 10 MB above that
after the first.

``--examples DIR`` also writes the example pictures shown in the README (a 20-row scheduled post
and a /leaderboard show page, each on Discord's dark and light background).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import statistics
import sys
import time
from pathlib import Path

from bench.common import table, title, verdict
from bot.formatting.board_image import BoardPicture, PictureRow, layout, render_png
from bot.services.pictures import BoardPictures

RENDERS = 1_000
P99_MS = 60.0
MAX_BYTES = 250_000
MAX_GROWTH_MB = 10.0

NAMES = [
    "MaxMilyin", "Scott", "Владимир Путешественник", "محمد العربي", "山田太郎", "🔥Speedy🔥",
    "Z̷̢̧̛̛a̸̢̛l̵̡g̶o̶", "W" * 200, "Émilie Ødegård", "שלום", "Ωmega", "retro_kid",
    "ŁukaszŻółć", "Παναγιώτης", "NES4ever", "Ana Lúcia", "Jürgen", "Ngô Bảo Châu", "ゲーマー",
    "Lin",
]


def scheduled_board() -> BoardPicture:
    rows = tuple(
        PictureRow(
            rank=i + 1, name=name, fallback_name=f"RAUser{i}", points=14_230 - i * 611,
            unlocks=412 - i * 17, possible=450, mastered=(3 if i == 0 else int(i % 7 == 3)),
            completed=int(i % 5 == 2), move=(None if i == 6 else [2, -1, 0, 3, -2][i % 5]),
            gained=(i % 4) * 125, new=(i == 6),
        )
        for i, name in enumerate(NAMES)
    )
    return BoardPicture(
        title="Leaderboard · Monthly Madness",
        rows=rows,
        lines=("Super Metroid (SNES/Super Famicom) · Sonic the Hedgehog (Genesis/Mega Drive) · "
               "Mega Man 2 (NES/Famicom) · Castlevania: Symphony of the Night (PlayStation)  "
               "+2 more",),
        footer="Schedule #3 · 2026-12-01 18:00 UTC · hardcore points, then hardcore unlocks, "
               "then softcore points",
    )


def show_page() -> BoardPicture:
    rows = tuple(
        PictureRow(rank=i + 1, name=name, fallback_name=f"RAUser{i}", points=5_130 - i * 377,
                   unlocks=88 - i * 7, possible=96, mastered=int(i == 0), completed=int(i == 1))
        for i, name in enumerate(NAMES[:10])
    )
    return BoardPicture(
        title="Leaderboard · 2 games · page 1/3", rows=rows,
        lines=("Super Metroid (SNES/Super Famicom) · Sonic the Hedgehog (Genesis/Mega Drive)",),
        footer="27 members · figures of 2026-12-01 09:12 UTC · hardcore points, then hardcore "
               "unlocks, then softcore points",
    )


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def blank_png_ms(picture: BoardPicture, runs: int) -> float:
    from PIL import Image

    width, height, _, _ = layout(picture)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        image = Image.new("RGB", (width, height), (23, 25, 30))
        image.quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(
            io.BytesIO(), "PNG", compress_level=3
        )
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def through_the_service(picture: BoardPicture, runs: int) -> list[float]:
    service = BoardPictures()
    times = []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            assert await service.render(picture) is not None
            times.append((time.perf_counter() - start) * 1000)
    finally:
        service.close()
    return times


def examples(directory: Path) -> None:
    from PIL import Image

    directory.mkdir(parents=True, exist_ok=True)
    for name, picture, background in (
        ("board-dark.png", scheduled_board(), (49, 51, 56)),  # Discord's dark chat
        ("board-light.png", show_page(), (255, 255, 255)),  # and its light theme
    ):
        card = Image.open(io.BytesIO(render_png(picture))).convert("RGB")
        width = 640  # what a chat shows, about: small for the README
        card = card.resize((width, round(card.height * width / card.width)), Image.LANCZOS)
        framed = Image.new("RGB", (card.width + 32, card.height + 32), background)
        framed.paste(card, (16, 16))
        framed.quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(
            directory / name, "PNG", optimize=True
        )
        print(f"wrote {directory / name} ({(directory / name).stat().st_size // 1024} KB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=RENDERS)
    parser.add_argument("--examples", type=Path, help="write the README's example pictures here")
    args = parser.parse_args()

    title("board pictures: render speed, size and memory")
    picture = scheduled_board()
    start = time.perf_counter()
    png = render_png(picture)  # loads Pillow and the fonts
    first_ms = (time.perf_counter() - start) * 1000
    gc.collect()
    after_first = rss_mb()
    times = []
    for _ in range(args.renders):
        start = time.perf_counter()
        png = render_png(picture)
        times.append((time.perf_counter() - start) * 1000)
    gc.collect()
    growth = rss_mb() - after_first
    floor = blank_png_ms(picture, 50)
    service = asyncio.run(through_the_service(picture, 100))
    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
    width, height, _, _ = layout(picture)
    print(table(
        ["what", "figure"],
        [
            ["picture", f"{width} x {height} px, 20 rows in 2 columns"],
            ["first render (loads Pillow and fonts)", f"{first_ms:.1f} ms"],
            [f"render p50 / p99 over {args.renders}", f"{p50:.1f} ms / {p99:.1f} ms"],
            ["baseline: blank PNG of that size, p50", f"{floor:.1f} ms ({p50 / floor:.1f}x)"],
            ["through BoardPictures (thread), p50 / p99",
             f"{percentile(service, 0.5):.1f} ms / {percentile(service, 0.99):.1f} ms"],
            ["PNG size", f"{len(png) / 1000:.1f} KB"],
            ["resident memory after the first render", f"{after_first:.1f} MiB"],
            [f"growth after {args.renders} more", f"{growth:+.1f} MiB"],
        ],
    ))
    ok = p99 <= P99_MS and len(png) <= MAX_BYTES and growth <= MAX_GROWTH_MB
    print(verdict(ok, f"p99 {p99:.1f} ms (<= {P99_MS:.0f}), {len(png) / 1000:.0f} KB "
                      f"(<= {MAX_BYTES // 1000}), memory {growth:+.1f} MiB "
                      f"(<= {MAX_GROWTH_MB:.0f})"))
    if args.examples:
        examples(args.examples)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
