"""Small shared test tools: free ports, serving an app on real loopback, report builders."""

from __future__ import annotations

import signal
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from siarkan.articles.model import Article, Image, RelatedLink, Status

JAKARTA_OFFSET = timedelta(hours=7)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_app(app: web.Application, port: int, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Run an aiohttp app on a real loopback socket; yields its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """TimeoutError when the block runs longer than `seconds` (main thread only). The regex
    engine checks for signals, so a pattern stuck backtracking fails the test in `seconds`
    instead of hanging the suite for hours."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


PARAGRAPHS = (
    "Pemerintah Kabupaten Serang menetapkan status tanggap darurat banjir selama 14 hari "
    "setelah hujan deras mengguyur wilayah itu sejak Senin (3/11/2026) malam. Sedikitnya "
    "1.250 rumah di enam kecamatan terendam air setinggi 50 cm hingga 1,5 meter.",
    "Bupati Serang, Hj. Ratu Tatu Chasanah, mengatakan keputusan itu diambil dalam rapat "
    "koordinasi di Pendopo Bupati, Jl. Veteran No. 1, pada Selasa pukul 12.30 WIB. “Kami "
    "tidak mau menunggu air surut baru bergerak. Semua dinas turun hari ini,” ujarnya.",
    "Kepala Pelaksana BPBD Kab. Serang, H. Nana Suryana, S.H., M.Si., menyebut anggaran "
    "belanja tidak terduga sebesar Rp1,5 miliar disiapkan untuk dapur umum, perahu karet, "
    "dan obat-obatan. Menurut dia, banjir kali ini merupakan yang ke-54 sejak 2010.",
    "Di Kec. Cikande, warga mengungsi ke masjid dan gedung sekolah. Siti Aminah (42), warga "
    "Desa Julang, mengaku baru sempat menyelamatkan dokumen penting. “Air naik cepat sekali, "
    "sekitar pukul 02.00 sudah sepinggang,” katanya.",
    "Dinas Kesehatan mendirikan tiga pos kesehatan. dr. Rina Marlina dari Puskesmas Cikande "
    "mencatat 3,5 persen pengungsi mengalami diare dan gatal-gatal, sebagian besar anak-anak "
    "dan lansia.",
    "Prof. Dr. Ir. Bambang Hidayat dari Universitas Sultan Ageng Tirtayasa menilai alih "
    "fungsi lahan di hulu Sungai Ciujung memperparah banjir. Kajian timnya bersama dkk. "
    "menunjukkan tutupan hutan berkurang 18 persen dalam sepuluh tahun.",
    "PT Krakatau Steel (Persero) Tbk. menyalurkan bantuan 5.000 paket sembako. Bantuan "
    "dikirim melalui posko di kantor Kecamatan Kragilan dan akan diteruskan ke desa-desa "
    "terdampak pada Rabu pagi.",
    "Hingga Selasa sore, ketinggian air di sejumlah titik mulai turun sekitar 20 cm. Namun "
    "BMKG memperkirakan hujan dengan intensitas sedang hingga lebat masih akan terjadi "
    "hingga akhir pekan, sehingga warga diminta tetap waspada.",
)


def make_report(**overrides: Any) -> Article:
    """A realistic, already-imported Indonesian report; override any field."""
    published = datetime(2026, 11, 4, 9, 15, tzinfo=UTC) - JAKARTA_OFFSET + JAKARTA_OFFSET
    article = Article(
        id="a1b2c3d4e5f6",
        slug="banjir-rendam-1250-rumah-di-kabupaten-serang",
        title="Banjir Rendam 1.250 Rumah di Kabupaten Serang, Status Tanggap Darurat Ditetapkan",
        paragraphs=PARAGRAPHS,
        body_html="".join(f"<p>{p}</p>" for p in PARAGRAPHS).replace("“", "“"),
        language="id",
        subtitle="Enam kecamatan terdampak, anggaran darurat Rp1,5 miliar disiapkan",
        dateline="SERANG, PROLOGMEDIA",
        authors=("Ahmad Fauzi",),
        section="Banten",
        tags=("banjir", "Kabupaten Serang", "BPBD"),
        canonical_url=None,
        image=Image(
            url="https://cdn.prologmedia.example/2026/11/banjir-serang.jpg",
            alt="Warga mengarungi banjir di Desa Julang, Kecamatan Cikande",
            caption="Warga mengarungi banjir di Desa Julang.",
            credit="Foto: Ahmad Fauzi/Prolog Media",
            media_type="image/jpeg",
            width=1200,
            height=800,
        ),
        related=(RelatedLink("Harga Cabai di Pasar Rau Naik Dua Kali Lipat", None),),
        published_at=published,
        updated_at=published,
        publish_at=None,
        status=Status.PUBLISHED,
        source="tests",
    )
    return replace(article, **overrides).with_hash()
