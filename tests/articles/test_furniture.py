"""Page furniture by shape: ad labels, pagination, promos, credits, rights notices. Each rule
has its look-alike story sentence next to it, which must stay story."""

from __future__ import annotations

import pytest

from siarkan.articles.furniture import (
    is_caption_line,
    is_copyright,
    is_noise_line,
    is_promo_line,
    match_credit,
)
from tests.helpers import time_limit


@pytest.mark.parametrize(
    "line",
    [
        "ADVERTISEMENT",
        "- Advertisement -",
        "— ADVERTISEMENT —",
        "Advertisement",
        "Iklan",
        "SCROLL TO CONTINUE WITH CONTENT",
        "Scroll untuk melanjutkan membaca",
        "[Gambas:Video 20detik]",
        "[Gambas:Video CNN]",
        "Halaman: 1 2 3",
        "Halaman 1 2",
        "Halaman 2 dari 3",
        "Lanjut ke halaman berikutnya",
        "Baca selengkapnya di sini",
        "1 2 3 Selanjutnya",
        "Selanjutnya >>",
        "Halaman selanjutnya »",
        "« Sebelumnya",
        "Bagikan ini:",
        "Share:",
        "Facebook Twitter WhatsApp Telegram",
        "Facebook | Twitter | Salin tautan",
        "ILUSTRASI",
        "Foto ilustrasi",
        "(Ist)",
        "Rabu, 05 Februari 2025 | 17:05 WIB",
        "Jum'at, 20 September 2024 - 20:11 WIB",
        'Simak Video "Detik-detik Banjir Rob Terjang Permukiman"',
        "Simak juga Video: Banjir Rendam Serang",
        "Simak juga video pilihan berikut ini:",
        "Saksikan Video Pilihan di Bawah Ini:",
    ],
)
def test_noise_lines(line: str) -> None:
    assert is_noise_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Iklan layanan masyarakat itu dipasang di setiap posko.",
        "Halaman sekolah terendam banjir setinggi 40 sentimeter.",
        "Selanjutnya, warga diminta mengungsi ke balai desa.",
        "Berikutnya giliran Desa Lontar yang menerima bantuan.",
        "Facebook dan Twitter ramai membahas banjir itu.",
        "Simak video itu, kata Kapolres, lalu laporkan ke polisi.",
        "Tonton video dokumenter itu di bioskop mulai Kamis.",
        "Rabu, 5 Februari 2025, warga berkumpul di balai desa.",
        "Istimewa rasanya bisa bertemu langsung dengan Bupati.",
        "Bagikan sembako dulu kepada lansia, baru yang lain.",
    ],
)
def test_story_sentences_that_look_like_noise(line: str) -> None:
    assert not is_noise_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Ikuti berita terkini PROLOGMEDIA di Google News",
        "Follow Berita Okezone di Google News",
        "Baca berita TribunBanten.com lainnya di Google News",
        "Dapatkan update berita pilihan dan breaking news setiap hari dari Kompas.com. Mari "
        "bergabung di Grup Telegram “Kompas.com News Update”, caranya klik link "
        "https://t.me/contoh, kemudian join. Anda harus install aplikasi Telegram terlebih dulu "
        "di ponsel.",
        "Simak breaking news dan berita pilihan kami langsung di ponselmu. Pilih saluran "
        "andalanmu akses berita Kompas.com WhatsApp Channel : https://www.whatsapp.com/channel/x."
        " Pastikan kamu sudah install aplikasi WhatsApp ya.",
        "Ikuti saluran WhatsApp TribunBanten.com untuk mendapatkan berita terkini",
        "Download aplikasi Kabar Pandeglang di Google Play Store untuk mendapatkan berita "
        "terbaru setiap hari.",
        "Dapatkan berita up to date dengan semua berita terkini dari Okezone hanya dengan satu "
        "akun di ORION, daftar sekarang dengan klik disini dan nantikan kejutan menarik lainnya",
        "Ikuti kami di Instagram @prologmedia",
        "Artikel ini telah tayang di Tribunnews.com dengan judul Polisi Bongkar Elpiji Oplosan.",
        "Cek Berita dan Artikel yang lain di Google News",
        "Dapatkan informasi terkini dan terbaru setiap hari di WhatsApp Channel Prolog Media",
        "Yuk, gabung bersama kami di saluran WhatsApp Kabar Banten!",
        # an emoji pointing at it; the site's channel as the object
        "📲 Gabung saluran WhatsApp kami: https://whatsapp.com/channel/0029Va",
        "👉 Ikuti Channel WhatsApp Kabar Cilegon, klik di sini",
        "Gabung grup Telegram kami: https://t.me/contoh",
    ],
)
def test_promos(line: str) -> None:
    assert is_promo_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Warga yang melihat kerusakan jembatan diminta melapor melalui layanan WhatsApp "
        "pengaduan di nomor 0811-1234-5678.",
        "“Ikuti aturan yang ada, jangan sampai ada pungutan liar,” ujar Camat.",
        "Ikuti perkembangan harga beras lewat aplikasi SiHarga, kata Kepala Dinas.",
        "Baca berita di koran sudah jadi kebiasaan warga Kampung Baduy sejak dulu.",
        "Dapatkan bantuan sosial dengan mendaftar di kantor desa.",
        "Simak penjelasan BPBD soal banjir di kanal Telegram resmi mereka, imbau Camat.",
        # The portals' hoax checks, live reports and service stories: a channel and the
        # news in the line, and story all the same.
        "Cek fakta: Beredar kabar di WhatsApp bahwa pencairan bansos PKH tahap empat dimulai "
        "hari ini.",
        "Update 14.30 WIB: BPBD Banten menyampaikan informasi terbaru melalui akun Instagram "
        "resmi, jumlah pengungsi bertambah menjadi 1.200 orang.",
        "Update: Polisi menyebut video viral di TikTok itu berita lama dari 2019.",
        "Follow up berita warga di Facebook soal jalan rusak, petugas Dinas PUPR langsung "
        "menambal jalan berlubang itu.",
        "Simak informasi lengkap soal modus penipuan lewat WhatsApp berikut ini.",
        "Dapatkan informasi lengkap soal syarat pendaftaran CPNS 2025 di laman resmi BKN dan "
        "akun Instagram @bkngoidofficial.",
        "Ayo laporkan melalui WhatsApp Lapor Pak Kapolres, informasi akan kami tindak lanjuti.",
        "Kunjungi posko di Balai Desa Cibeber atau hubungi WhatsApp 0812-3456-7890 untuk "
        "informasi bantuan.",
        "👉 Warga diminta melapor lewat WhatsApp pengaduan jika melihat pungli.",
        "Cek saluran air di rumah masing-masing sebelum musim hujan, pesan BPBD di Instagram.",
        "Pantau saluran irigasi Ciujung yang jebol sejak Senin, petani diminta waspada.",
    ],
)
def test_story_sentences_that_look_like_promos(line: str) -> None:
    assert not is_promo_line(line)


@pytest.mark.parametrize(
    ("line", "credit"),
    [
        ("Penulis: Rina Marlina", (True, "Rina Marlina")),
        ("Editor : Dita Amalia", (False, "Dita Amalia")),
        ("Kontributor : Hilman Sadewa", (True, "Hilman Sadewa")),
        ("Sumber: Diskominfo Kabupaten Lebak", (False, "Diskominfo Kabupaten Lebak")),
        ("Laporan Wartawan TribunBanten.com, Rangga Saputra", (True, "Rangga Saputra")),
        ("(TribunBanten.com/Rangga Saputra)", (True, "Rangga Saputra")),
        ("Pewarta: Mulyana", (True, "Mulyana")),
    ],
)
def test_credit_lines(line: str, credit: tuple[bool, str]) -> None:
    assert match_credit(line) == credit


@pytest.mark.parametrize(
    "line",
    [
        "(Foto/Ilustrasi)",
        "(rls/red)",
        "Laporan keuangan daerah, kata dia, sudah diaudit.",
        "Sumber air warga tercemar limbah pabrik.",
    ],
)
def test_not_credit_lines(line: str) -> None:
    assert match_credit(line) is None


def test_rights_notices() -> None:
    assert is_copyright("COPYRIGHT © ANTARA 2025")
    assert is_copyright(
        "Dilarang keras mengambil konten, melakukan crawling atau pengindeksan otomatis untuk AI "
        "di situs web ini tanpa izin tertulis dari Kantor Berita ANTARA."
    )
    assert not is_copyright("Dilarang parkir di bahu jalan selama perbaikan berlangsung.")
    assert is_copyright("Copyright 2025 Kompas.com. All rights reserved.")
    assert is_copyright("Hak Cipta Dilindungi Undang-Undang")
    assert is_copyright("Dilarang mengutip artikel ini tanpa izin tertulis redaksi.")


@pytest.mark.parametrize(
    "line",
    [
        # A story's last paragraph, which the trailer rules look at for a rights notice.
        "Dilarang mengambil foto di area bandara tanpa izin, tegas petugas.",
        "Dilarang menggunakan kendaraan pribadi saat hari bebas kendaraan, kata Kapolres.",
        "Dilarang menyebarluaskan data pribadi pasien, sesuai UU Pelindungan Data Pribadi.",
        "Hak cipta lagu itu kini dipegang oleh ahli waris sang pencipta.",
        "Copyright lagu tersebut dimiliki label rekaman asal Jakarta, ujar kuasa hukumnya.",
    ],
)
def test_story_sentences_that_look_like_rights_notices(line: str) -> None:
    assert not is_copyright(line)


@pytest.mark.parametrize(
    "line",
    ["Halaman " + "1" * 40 + " x", "Halaman: " + "1 " * 40 + "x", "halaman " + "12," * 30 + "x"],
)
def test_a_long_page_number_line_is_judged_at_once(line: str) -> None:
    """ "Halaman" and a run of digits that ends in something else: the digits could be split
    between page numbers in 2^n ways, and 24 of them took 20 s (40: days)."""
    with time_limit(1.0):
        assert not is_noise_line(line)
    assert is_noise_line("Halaman: 1, 2, 3 | 4 Selanjutnya >>")
    assert is_noise_line("Halaman 12 13 14,")


@pytest.mark.parametrize(
    "line",
    [
        "Foto: Warga mengungsi ke balai desa. (MEDIA/Budi)",
        "(Foto: Istimewa)",
        # a press release's picture credited to the office alone, or to its "source"
        "Dok. Humas Pemkab Lebak",
        "(Dok. Diskominfo Serang)",
        "Dokumentasi: Humas Polres Pandeglang",
        "Sumber Foto: Istimewa",
        "(Gambar: Freepik)",
    ],
)
def test_caption_lines(line: str) -> None:
    assert is_caption_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Dokumentasi kegiatan itu diunggah ke situs resmi desa.",
        "Dokter jaga di RSUD Banten menangani 40 pasien.",
        "Dokumen anggaran itu diserahkan ke DPRD Kota Serang",
        "Gambar mural itu dibuat pelajar SMK Negeri 2 Serang.",
    ],
)
def test_story_sentences_that_look_like_captions(line: str) -> None:
    assert not is_caption_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Klik di sini untuk membaca selengkapnya",
        "Klik link ini untuk baca berita selengkapnya",
        "Next Page »",
        "« Previous Page",
        "Halaman Selanjutnya »",
        "PARIWARA",
        "Advertorial",
        "- ADVERTORIAL -",
    ],
)
def test_teaser_links_page_links_and_paid_report_labels_are_noise(line: str) -> None:
    assert is_noise_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Advertorial itu dibayar Pemkab Lebak Rp 50 juta, kata Ketua DPRD.",
        "Pariwara kampanye dilarang tayang selama masa tenang.",
        "Klik di sini untuk mendaftar vaksinasi gratis, kata petugas puskesmas.",
    ],
)
def test_story_sentences_about_advertorials_and_links_stay(line: str) -> None:
    assert not is_noise_line(line)


@pytest.mark.parametrize(
    ("line", "credit"),
    [
        ("Oleh: Ahmad Fauzi", (True, "Ahmad Fauzi")),
        ("Oleh : Dr. Siti Rahmawati, M.Si", (True, "Dr. Siti Rahmawati, M.Si")),
        ("Penulis/Editor: Rina Marlina", (True, "Rina Marlina")),
        ("Editor / Penulis : Rina Marlina", (True, "Rina Marlina")),
        ("Reporter & Editor: Hilman Sadewa", (True, "Hilman Sadewa")),
    ],
)
def test_byline_and_one_person_in_two_roles(line: str, credit: tuple[bool, str]) -> None:
    assert match_credit(line) == credit


def test_oleh_opening_a_sentence_is_no_credit() -> None:
    assert match_credit("Oleh karena itu, warga diminta waspada.") is None
    assert match_credit("Oleh warga: jalan itu disebut jalan tikus.") is None
