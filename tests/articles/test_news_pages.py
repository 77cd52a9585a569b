"""Indonesian news pages through `siarkan import`, `articles show` and `excerpts`: the story,
only the story.

    tests/articles/pages/*.html | siarkan import (real CLI, temp SQLite) | articles show --json
        | excerpts --mode summary/thread/series --json

The pages are fictional reports in the markup of the sites and themes a Banten newsroom meets:
tagDiv Newspaper (classic and Cloud Library templates), JNews, Jannah, a classic WordPress
theme, Blogger, detik, Kompas, Tribun, antaranews, Suara, okezone and Liputan6. Each carries the
furniture those pages really put in or around the body: "Baca Juga" boxes in many shapes, ads,
Google News / Telegram / WhatsApp Channel promos, pagination, share bars, credit lines, editor
initials, caption labels, video teasers. Fictional people are marked "(fiktif)"; the
*.example domains are reserved.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from siarkan.cli.main import main
from tests.conftest import TEST_CONFIG

PAGES = Path(__file__).parent / "pages"


@dataclass(frozen=True)
class Page:
    title: str
    dateline: str
    authors: tuple[str, ...]
    published: str
    tags: tuple[str, ...]
    image: tuple[str, str, str]  # url, caption, credit
    related: tuple[str, ...]
    starts: tuple[str, ...]  # the first words of every story paragraph, in order
    last: str  # how the story ends (initials and credits gone)


EXPECTED = {
    "antara-banten.html": Page(
        title="Pemprov Banten salurkan bantuan pangan untuk 12.000 keluarga korban banjir",
        dateline="Serang (ANTARA)",
        authors=("Mulyana",),
        published="2025-03-11T19:05:00+07:00",
        tags=("bantuan pangan", "banjir banten", "Pemprov Banten"),
        image=(
            "https://cdn.antaranews.example/cache/1200x800/2025/03/11/bantuan-pangan-banten.jpg",
            "Petugas menurunkan karung beras bantuan di Kecamatan Cikeusal, Kabupaten Serang, "
            "Banten, Selasa (11/3/2025).",
            "ANTARA/Mulyana",
        ),
        related=(
            "Banjir rendam ribuan rumah di Kabupaten Serang",
            "BPBD Lebak catat 1.800 warga mengungsi akibat banjir",
        ),
        starts=(
            "Pemerintah Provinsi (Pemprov)",
            "Penjabat Sekretaris Daerah",
            '"Bantuan ini untuk',
            "Ia menjelaskan penyaluran",
            "Menurut dia, Pemprov",
            "Data BPBD Provinsi",
            "Ia mengimbau warga",
        ),
        last="potensi terjadi hingga sepekan ke depan.",
    ),
    # Blogger's default layout: the story one <div> a line (no <p> at all) in div.post-body,
    # the picture in a tr-caption-container table above the dateline, "BACA JUGA :" over one
    # line of links each, the labels of the BlogPosting inside the "widget Blog".
    "blogger-bantenexpose.html": Page(
        title="Dua Pelajar SMA di Serang Juara Olimpiade Sains Nasional",
        dateline="SERANG, BANTENEXPOSE.COM",
        authors=("Dimas Pratama",),
        published="2026-02-11T19:20:00+07:00",
        tags=("Pendidikan", "Serang"),
        image=(
            "https://blogger.googleusercontent.example/img/b/R29v/w1200-h630-p-k-no-nu/"
            "osn-serang.jpg",
            "Kepala SMAN 1 Kota Serang bersama dua siswa peraih medali emas OSN 2026.",
            "Dok. Humas SMAN 1",
        ),
        related=(
            "Puluhan Pelajar Banten Lolos OSN Tingkat Nasional",
            "Pemprov Banten Siapkan Beasiswa untuk Siswa Berprestasi",
        ),
        starts=(
            "Dua pelajar SMAN",
            "Kepala SMAN 1",
            '"Ini prestasi pertama',
            "Aulia mengaku tidak",
            "Pemerintah Provinsi Banten",
        ),
        last="menyerahkan penghargaan pada Senin (16/2/2026).",
    ),
    "classic-wp-bantenpos.html": Page(
        title="Bupati Lebak Resmikan Jembatan Gantung Cisimeut, Warga Tak Lagi Seberangi Sungai",
        dateline="LEBAK, BANTENPOS",
        authors=(),
        published="2025-04-22T06:15:44+00:00",
        tags=("infrastruktur", "jembatan gantung", "Lebak"),
        image=(
            "https://bantenpos.example/wp-content/uploads/2025/04/jembatan-cisimeut-scaled.jpg",
            "Bupati Lebak menggunting pita peresmian jembatan gantung Cisimeut, Selasa "
            "(22/4/2025).",
            "Dok. Diskominfo Lebak",
        ),
        related=(
            "Siswa SD di Leuwidamar Seberangi Sungai Pakai Rakit",
            "Jembatan Gantung Ciberang Putus Diterjang Banjir",
            "DPUPR Lebak Targetkan 12 Jembatan Gantung Baru",
            "Harga Gula Aren Baduy Naik Jelang Lebaran",
        ),
        starts=(
            "Bupati Lebak meresmikan",
            "Sebelum jembatan dibangun,",
            "“Alhamdulillah, mulai hari",
            "Pembangunan jembatan menghabiskan",
            "Kepala Desa Cisimeut,",
            "“Ikuti aturan yang",
            "Warga yang melihat",
            "Lihat juga kondisi",
        ),
        last="angun pada 1990-an dan kini mulai rapuh.",
    ),
    "detik-news.html": Page(
        title="Banjir Rob Rendam 3 Desa di Pesisir Tangerang, Ratusan Warga Mengungsi",
        dateline="Tangerang",
        authors=("Fikri Haikal",),
        published="2025-12-02T10:15:03+07:00",
        tags=("banjir rob", "kabupaten tangerang", "bpbd"),
        image=(
            "https://akcdn.detik.example/community/media/visual/2025/12/02/"
            "banjir-rob-tangerang_169.jpeg?w=700&q=90",
            "Banjir rob merendam permukiman di Desa Tanjung Pasir, Kabupaten Tangerang.",
            "Fikri Haikal/detikcom",
        ),
        related=("BMKG Peringatkan Potensi Rob di Pesisir Utara Jawa hingga 5 Desember",),
        starts=(
            "Banjir rob merendam",
            "Tiga desa yang",
            '"Air mulai naik',
            "Menurut Sanusi, warga",
            "Kepala Pelaksana BPBD",
            '"Kami siagakan personel',
            "Asep menambahkan, BPBD",
        ),
        last="n darurat dilakukan dengan karung pasir.",
    ),
    # detik's paginated story in one page (section.multi-card per page), with its pictures in
    # table.pic_artikel_sisip_table (one whose image is gone), the "Daftar Isi" box and the
    # video box under the story.
    "detik-multicard.html": Page(
        title="Abu Vulkanik Anak Krakatau Sampai Pandeglang, Warga Diminta Pakai Masker",
        dateline="Pandeglang",
        authors=("Rina Safitri",),
        published="2026-03-04T09:12:40+07:00",
        tags=("abu vulkanik", "anak krakatau"),
        image=(
            "https://akcdn.detik.example/community/media/visual/2026/03/04/"
            "abu-vulkanik-labuan_169.jpeg?w=700&q=90",
            "",
            "Rina Safitri/detikHealth",
        ),
        related=("Status Gunung Anak Krakatau Naik Jadi Siaga, Radius Aman 5 Km",),
        starts=(
            "Abu vulkanik dari",
            "Dinas Kesehatan Kabupaten",
            '"Debunya halus, kalau',
            "Masker Bedah Lebih",
            "Menurut Hadi, masker",
            "Kasus ISPA Dipantau",
            "Puskesmas Labuan mencatat",
            '"Sebagian besar keluhannya',
        ),
        last='Kami minta warga segera datang kalau sesak," ujar Hadi.',
    ),
    "jannah-radarserang.html": Page(
        title="DPRD Kota Serang Setujui Raperda Pengelolaan Sampah",
        dateline="SERANG",
        authors=("Nizar Fahmi",),
        published="2025-06-24T17:02:33+07:00",
        tags=("DPRD Kota Serang", "perda sampah", "sampah"),
        image=(
            "https://radarserangkota.example/wp-content/uploads/2025/06/paripurna-dprd.jpg",
            "Suasana rapat paripurna DPRD Kota Serang, Selasa (24/6/2025).",
            "NIZAR/RADAR SERANG KOTA",
        ),
        related=(
            "TPA Cilowong Overkapasitas, Pemkot Serang Cari Lahan Baru",
            "Bank Sampah di Kasemen Hasilkan Rp12 Juta per Bulan",
        ),
        starts=(
            "Dewan Perwakilan Rakyat",
            "Rapat paripurna dipimpin",
            "Ketua Panitia Khusus",
            "“Denda administratif paling",
            "Menurut Rohmah, Pansus",
            "Wali Kota Serang",
            "“Kami akan tambah",
            "Sementara itu, Fraksi",
        ),
        last="asilitas umum sebelum menerapkan sanksi.",
    ),
    "jnews-kabarpandeglang.html": Page(
        title="Ribuan Penyu Lekang Dilepas di Pantai Tanjung Lesung",
        dateline="PANDEGLANG, KABARPANDEGLANG.COM",
        authors=("Yayan Sopyan",),
        published="2025-08-17T16:20:00+07:00",
        tags=("konservasi", "penyu", "Tanjung Lesung"),
        image=(
            "https://kabarpandeglang.example/wp-content/uploads/2025/08/tukik-tanjung-lesung.jpg",
            "Anak-anak melepas tukik di Pantai Tanjung Lesung, Minggu (17/8/2025).",
            "KABARPANDEGLANG/Yayan",
        ),
        related=(
            "[VIDEO] Detik-detik Ribuan Tukik Dilepas ke Laut",
            "Galeri Foto Penangkaran Penyu Cikujang",
            "Sampah Plastik Menumpuk di Pantai Labuan Usai Libur Lebaran",
        ),
        starts=(
            "Sebanyak 1.250 tukik",
            "Kegiatan tersebut diikuti",
            "Ketua Kelompok Pelestari",
            "“Dulu telur penyu",
            "Kepala Balai Konservasi",
            "Nandang berharap kelompok",
            "Selain melepas tukik,",
        ),
        last="kan sekitar 400 kilogram sampah plastik.",
    ),
    "kompas-regional.html": Page(
        title="Harga Cabai Rawit di Serang Tembus Rp90.000 per Kilogram",
        dateline="SERANG, KOMPAS.com",
        authors=("Aceng Mulyana",),
        published="2025-10-21T13:42:05+07:00",
        tags=("harga cabai", "cabai rawit", "Pasar Rau", "Kota Serang"),
        image=(
            "https://asset.kompas.example/crops/abc=/0x0:1000x667/750x500/data/photo/2025/10/21/"
            "cabai-rawit.jpg",
            "Pedagang menata cabai rawit di Pasar Rau, Kota Serang, Selasa (21/10/2025).",
            "",
        ),
        related=(
            "Harga Bawang Merah di Banten Turun, Pedagang Mengeluh Rugi",
            "Operasi Pasar Murah Digelar di Cilegon, Warga Antre Sejak Subuh",
        ),
        starts=(
            "Harga cabai rawit",
            "Pantauan Kompas.com di",
            '"Biasanya orang beli',
            "Menurut dia, kenaikan",
            "Kepala Dinas Koperasi,",
            '"Kami juga berkoordinasi',
            "Wahyu mengimbau warga",
        ),
        last="an November seiring masuknya masa panen.",
    ),
    "liputan6-banten.html": Page(
        title="Ratusan Ikan Mati Mendadak di Sungai Cisadane, DLH Ambil Sampel Air",
        dateline="Liputan6.com, Tangerang",
        authors=("Pratiwi Lestari",),
        published="2025-05-12T09:30:00+07:00",
        tags=("sungai cisadane", "ikan mati", "pencemaran", "kota tangerang"),
        image=(
            "https://cdn1-production-images-kly.akamaized.example/abc=/640x360/smart/"
            "filters:quality(75)/ikan-mati-cisadane.jpg",
            "Warga menunjukkan ikan yang mati di Sungai Cisadane.",
            "Liputan6.com/Pratiwi Lestari",
        ),
        related=(
            "Limbah Pabrik Cemari Cisadane, Warga Keluhkan Bau Menyengat",
            "PDAM Tirta Benteng Hentikan Sementara Produksi Air",
        ),
        starts=(
            "Ratusan ikan ditemukan",
            "Dinas Lingkungan Hidup",
            '"Kami ambil sampel',
            "Warga Diminta Tidak",
            "Wawan mengimbau warga",
            "Perusahaan Daerah Air",
        ),
        last="ama enam jam sebagai langkah antisipasi.",
    ),
    "okezone-news.html": Page(
        title="KPU Banten Tetapkan 8,9 Juta Pemilih untuk Pilkada Serentak",
        dateline="SERANG",
        authors=("Yudi Pratama",),
        published="2024-09-20T20:11:00+07:00",
        tags=("KPU Banten", "DPT", "Pilkada 2024"),
        image=(
            "https://img.okezone.example/content/2024/09/20/337/3061234/kpu-banten-abc.jpg",
            "Rapat pleno KPU Banten",
            "Okezone/Yudi",
        ),
        related=("Bawaslu Banten Temukan 12 Ribu Pemilih Tidak Memenuhi Syarat",),
        starts=(
            "Komisi Pemilihan Umum",
            "Penetapan dilakukan dalam",
            "Ketua KPU Banten,",
            '"DPT ini sudah',
            "Ia menyebut, pemilih",
        ),
        last="sul Kabupaten Serang dan Kota Tangerang.",
    ),
    "suara-banten.html": Page(
        title="Jalan Provinsi Rusak Parah, Warga Pandeglang Tanam Pohon Pisang di Tengah Jalan",
        dateline="SuaraBanten.id",
        authors=("Hilman Sadewa",),
        published="2025-02-05T17:05:12+07:00",
        tags=("jalan rusak", "Pandeglang", "Saketi"),
        image=(
            "https://media.suara.example/pictures/653x366/2025/02/05/jalan-rusak-saketi.jpg",
            "Warga menanam pohon pisang di jalan rusak di Saketi, Pandeglang.",
            "Suara.com/Hilman Sadewa",
        ),
        related=(
            "Jalan Rusak di Lebak Dikeluhkan, Warga Bikin Kolam Ikan",
            "DPUPR Banten Janji Perbaiki 30 Ruas Jalan Tahun Ini",
            "Anggaran Perbaikan Jalan Provinsi Banten Naik 20 Persen",
        ),
        starts=(
            "Kesal dengan kondisi",
            "Jalan yang menghubungkan",
            '"Sudah dua tahun',
            "Menurut Jaenudin, sedikitnya",
            "Kepala Unit Pelaksana",
            '"Sudah kami usulkan',
        ),
        last='sik April," kata Asep saat dikonfirmasi.',
    ),
    "tagdiv-prologmedia.html": Page(
        title="Pemkab Serang Bangun 12 Embung untuk Atasi Kekeringan di Wilayah Utara",
        dateline="SERANG, PROLOGMEDIA",
        authors=("Redaksi",),
        published="2025-11-14T08:30:12+00:00",
        tags=("embung", "Kabupaten Serang", "kekeringan", "Pertanian"),
        image=(
            "https://prologmedia.example/wp-content/uploads/2025/11/embung-tirtayasa.jpg",
            "Pekerja menyelesaikan pembangunan embung di Kecamatan Tirtayasa.",
            "Dok. Humas Pemkab Serang",
        ),
        related=(
            "Ratusan Petani di Pontang Gagal Panen Akibat Kemarau Panjang",
            "Bupati Serang Minta Camat Data Lahan Pertanian yang Rawan Kekeringan",
            "Harga Gabah Kering Panen di Serang Naik Jadi Rp7.200 per Kilogram",
        ),
        starts=(
            "Pemerintah Kabupaten (Pemkab)",
            "Kepala Dinas Pekerjaan",
            "“Setiap embung kami",
            "Menurut dia, embung",
            "Suhendar menambahkan, pembangunan",
            "Sementara itu, Ketua",
            "“Kalau ada embung,",
            "Anggota DPRD Kabupaten",
            "“Jangan sampai dibangun",
        ),
        last="ran pemeliharaan setiap tahun,” katanya.",
    ),
    "tdb-cloud-bantennews.html": Page(
        title="Dua Pelajar SMK di Cilegon Tertabrak Kereta di Perlintasan Tanpa Palang Pintu",
        dateline="CILEGON",
        authors=("Rizal Fauzi",),
        published="2025-09-03T11:47:00+07:00",
        tags=("kecelakaan kereta", "Cilegon", "KAI Daop 1"),
        image=(
            "https://bantenkini.example/wp-content/uploads/2025/09/perlintasan-krenceng.jpeg",
            "Petugas memeriksa lokasi kecelakaan di perlintasan kereta Krenceng, Cilegon.",
            "Istimewa",
        ),
        related=(
            "KAI Daop 1 Tutup 14 Perlintasan Liar di Banten",
            "Warga Krenceng Minta Palang Pintu Dipasang",
            "Daftar Perlintasan Kereta Paling Rawan di Banten",
        ),
        starts=(
            "Dua pelajar sebuah",
            "Kedua korban, masing-masing",
            "Kapolsek Citangkil, AKP",
            "“Dugaan sementara, pengendara",
            "Menurut warga, perlintasan",
            "Manajer Humas KAI",
            "Pemkot Cilegon melalui",
        ),
        last="erlintasan itu pada tahun anggaran 2026.",
    ),
    # A WordPress theme that prints captions beside their pictures: p.wp-caption-text after
    # the <img>, div.foto-caption next to a <picture> without <img>; a press release's
    # "(*/red)" and a one-line "Penulis: ... | Editor: ..." credit.
    "wp-loose-caption.html": Page(
        title="Pasar Murah Ramadan Digelar di Enam Kecamatan Kota Serang",
        dateline="SERANG, KSR",
        authors=("Ahmad Fauzan (fiktif)",),
        published="2026-02-10T03:20:11+00:00",
        tags=("pasar murah", "Kota Serang"),
        image=(
            "https://kabarserangraya.example/wp-content/uploads/2026/02/pasar-murah-kasemen.jpg",
            "",
            "",
        ),
        related=(),
        starts=(
            "Pemerintah Kota (Pemkot)",
            "Kepala Dinas Koperasi,",
            "“Kami siapkan 20",
            "Di Kecamatan Walantaka,",
            "“Lumayan, beras di",
        ),
        last="kata Siti Aminah (fiktif), warga Walantaka.",
    ),
    "tribun-banten.html": Page(
        title="Polisi Bongkar Praktik Pengoplosan Gas Elpiji di Lebak, 2 Orang Ditangkap",
        dateline="TRIBUNBANTEN.COM, LEBAK",
        authors=("Rangga Saputra",),
        published="2025-07-09T14:21:00+07:00",
        tags=("pengoplosan elpiji", "Polres Lebak", "gas subsidi", "Cibadak"),
        image=(
            "https://asset-2.tstatic.example/banten/foto/bank/images/gas-oplosan-lebak.jpg",
            "",
            "",
        ),
        related=(
            "Harga Elpiji 3 Kg di Lebak Tembus Rp25 Ribu, Warga Mengeluh",
            "SPBE di Serang Disegel karena Takaran Gas Tak Sesuai",
        ),
        starts=(
            "Satuan Reserse Kriminal",
            "Dua orang pelaku",
            "Kasat Reskrim Polres",
            '"Dari empat tabung',
            "Dari lokasi, polisi",
            "Andi menyebut, praktik",
            "Atas perbuatannya, kedua",
        ),
        last="ara dan denda paling banyak Rp60 miliar.",
    ),
}

# What the pages carry besides the story, by shape. Story text in the pages may use the same
# words ("baca juga peraturannya", "layanan WhatsApp pengaduan", "“Ikuti aturan ..."): these
# patterns match the furniture's wording, not a single word.
FURNITURE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"baca juga\s*[:>]|baca juga$|(?-i:\bBACA JUGA\b)",
        r"simak juga",
        r"lihat juga\s*:",
        r"artikel terkait",
        r"berita terkait",
        r"baca selengkapnya",
        r"baca berita",
        r"halaman",
        r"selanjutnya",
        r"google news",
        r"telegram",
        r"whatsapp channel",
        r"saluran whatsapp",
        r"ponselmu",
        r"download aplikasi",
        r"advertisement",
        r"scroll to",
        r"\biklan\b",
        r"facebook",
        r"twitter",
        r"bagikan",
        r"\btags?\b",
        r"gambas",
        r"simak video",
        r"video pilihan",
        r"ilustrasi",
        r"foto\s*:",
        r"copyright",
        r"dilarang keras",
        r"telah tayang",
        r"orion",
        r"follow berita",
        r"ikuti berita",
        r"editor\s*:",
        r"penulis\s*:",
        r"reporter\s*:",
        r"sumber\s*:",
        r"pewarta",
        r"kontributor",
        r"laporan wartawan",
        r"(?-i:\([a-z]{2,6}(?:/[a-z0-9]{2,6})+\))",
        r"(?-i:\((?:adv|ant|rls|red)\))",
        r"\(\*\)",
        r"\(\*/",
        r"daftar isi",
        r"debu vulkanik menutupi",
        r"petugas (?:puskesmas membagikan|menata minyak)",
        r"warga mengantre membeli",
        r"tribunbanten\.com/",
        r"rabu, 05 februari",
    )
]


def furniture_in(text: str) -> list[str]:
    return [m.group(0) for pattern in FURNITURE for m in pattern.finditer(text)]


def cli(*args: str) -> Any:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(list(args))
    assert status == 0, out.getvalue()
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The pages imported once through the CLI: (config, {file name: article id})."""
    root = tmp_path_factory.mktemp("news-pages")
    sqlite = root / "siarkan.db"
    config = root / "siarkan.yaml"
    config.write_text(TEST_CONFIG.format(port=8080, sqlite=sqlite), encoding="utf-8")
    report = cli("--config", str(config), "import", str(PAGES), "--json")
    assert report["failed"] == [] and report["warnings"] == []
    assert len(report["imported"]) == len(EXPECTED)
    with sqlite3.connect(sqlite) as conn:
        ids = {
            Path(source).name: id_
            for id_, source in conn.execute("select id, source from articles")
        }
    return config, ids


def stored(imported: tuple[Path, dict[str, str]], name: str) -> dict[str, Any]:
    config, ids = imported
    data: dict[str, Any] = cli("--config", str(config), "articles", "show", ids[name], "--json")
    return data


def test_every_fixture_is_expected() -> None:
    assert sorted(p.name for p in PAGES.glob("*.html")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_story_and_its_metadata(imported: tuple[Path, dict[str, str]], name: str) -> None:
    expected = EXPECTED[name]
    article = stored(imported, name)
    paragraphs: list[str] = article["paragraphs"]
    # Every paragraph of the story, in order, and nothing else.
    assert tuple(" ".join(p.split()[:3]) for p in paragraphs) == expected.starts
    assert paragraphs[-1].endswith(expected.last)
    assert article["title"] == expected.title
    assert article["dateline"] == expected.dateline
    assert tuple(article["authors"]) == expected.authors
    published = datetime.fromisoformat(article["published_at"])
    assert published == datetime.fromisoformat(expected.published)
    assert tuple(article["tags"]) == expected.tags
    image = article["image"]
    assert (image["url"], image["caption"], image["credit"]) == expected.image
    assert tuple(r["title"] for r in article["related"]) == expected.related


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_furniture_in_the_stored_text(imported: tuple[Path, dict[str, str]], name: str) -> None:
    article = stored(imported, name)
    assert furniture_in("\n".join(article["paragraphs"])) == []
    html = lxml.html.fragment_fromstring(article["body_html"], create_parent="div")
    for figure in html.iter("figure"):  # a picture's caption may name its photographer
        figure.drop_tree()
    assert furniture_in(html.text_content()) == []
    story = " ".join(article["paragraphs"])
    assert not any(r["title"] in story for r in article["related"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize(("mode", "max_chars"), [("summary", "500"), ("thread", "500"),
                                                 ("series", "1500")])  # fmt: skip
def test_no_furniture_in_any_post(
    imported: tuple[Path, dict[str, str]], name: str, mode: str, max_chars: str
) -> None:
    config, ids = imported
    posts = cli(
        "--config", str(config), "excerpts", ids[name], "--mode", mode, "--max-chars", max_chars,
        "--json",
    )  # fmt: skip
    article = stored(imported, name)
    for post in posts:
        assert furniture_in(post["body_text"]) == [], post["text"]
        assert post["length"] <= int(max_chars)
    # The summary is the lead; a thread or a series is the whole story, word for word.
    words = " ".join(p["body_text"] for p in posts).replace(" …", "").split()
    story = " ".join(article["paragraphs"]).split()
    if mode == "summary":
        assert words == story[: len(words)] and len(words) >= 10
    else:
        assert words == story
