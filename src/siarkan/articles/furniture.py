"""Page furniture: the lines a news page carries in or around the story that are not story.
Pure functions over one line (a paragraph's text, whitespace-normalised).

    is_noise_line     ad labels ("- Advertisement -", "SCROLL TO CONTINUE WITH CONTENT"),
                      embed placeholders ("[Gambas:Video 20detik]"), pagination ("Halaman: 1 2",
                      "Selanjutnya >>"), share bars, byline timestamps, photo labels
                      ("ILUSTRASI"), video teasers ("Simak Video ...", whose player is gone)
    is_promo_line     calls to follow the site ("Ikuti berita terkini di Google News", Telegram
                      groups, WhatsApp Channels, app downloads) and syndication notes
    is_caption_line   a photo caption pasted as text ("Foto: ...", "(Foto: Istimewa)", one
                      ending in its credit: "... Foto: Nama/detikcom", "ANTARA FOTO/...")
    is_copyright      "COPYRIGHT © ANTARA 2026", "Dilarang keras mengambil konten ..."
    match_credit      "Penulis: X", "Editor : Y", "Penulis: X | Editor: Y", "Penulis/Editor: X",
                      "Oleh: X", "Laporan Wartawan Site.com, X", "(Site.com/X)"

A line is furniture by its shape: a fixed formula, short, alone in its paragraph. Never by one
word: a story sentence that mentions Google News, or a quote that says "baca juga
peraturannya", keeps its place. The HTML, markdown and text importers and the excerpt engine
share these rules.
"""

from __future__ import annotations

import re

_LINE_MAX = 200  # furniture is short; a longer line is a paragraph of story
_PROMO_MAX = 400  # a promo box may run to three sentences (Kompas' Telegram invitation)

# Decoration around a label: "- Advertisement -", "— ADVERTISEMENT —", "*** Iklan ***".
_DECOR = r"[\s\-\u2013\u2014•·|*_=~.:]*"
_NEXT = r"(?:>>|»|›|→|&gt;&gt;)"
_PREV = r"(?:<<|«|‹|←)"
_NOISE_LINE = re.compile(
    rf"^{_DECOR}(?:"
    # ad slots (detik's parallax ad, tagDiv/Jannah ad labels); the label over a paid report
    # ("ADVERTORIAL", or "PARIWARA", the Indonesian word) alone on its line
    r"advertisements?|advertisment|iklan|ads|sponsored|konten bersponsor|artikel bersponsor"
    r"|advertorial|pariwara"
    r"|scroll to (?:continue|resume) with content|scroll (?:untuk|to) (?:melanjutkan|lanjut|"
    r"continue)(?: membaca| reading)?|gulir (?:ke bawah )?untuk (?:melanjutkan|lanjut)(?: membaca)?"
    r"|lanjutkan membaca(?: (?:artikel|berita))?(?: di bawah(?: ini)?)?|continue reading(?: below)?"
    # embed placeholders and ad scripts that lost their <script>
    r"|\[gambas:[^\]]{0,80}\]|\(adsbygoogle\b.*"
    # pagination of a story split over pages
    # Numbers need a separator between them: "(?:\d+\s*[,|]?\s*)+" could split a run of n
    # digits in 2^n ways (catastrophic backtracking): "Halaman " + 24 digits + "x" took 20 s.
    r"|halaman\s*:?\s*\d+(?:(?:\s*[,|]\s*|\s+)\d+)*(?:\s*[,|])?\s*"
    rf"(?:selanjutnya|berikutnya|next)?\s*{_NEXT}?"
    r"|halaman\s*\d+\s*(?:dari|/)\s*\d+"
    r"|lanjut(?:kan)?(?: baca| membaca)?(?: ke)? halaman (?:berikutnya|selanjutnya)"
    rf"|(?:halaman|laman)\s+(?:selanjutnya|berikutnya|sebelumnya)\s*{_NEXT}?"
    rf"|{_PREV}?\s*(?:selanjutnya|berikutnya|sebelumnya|next|prev(?:ious)?)(?: page)?\s*{_NEXT}?"
    rf"|(?:\d+\s+)+\d+\s*(?:selanjutnya|berikutnya|next)?\s*{_NEXT}?"
    r"|(?:tampilkan|lihat|baca) semua(?: halaman)?|show all|baca (?:se)?lengkapnya(?: di ?sini)?"
    # the link to the rest of a teaser ("Klik di sini untuk membaca selengkapnya"), whose
    # target the import already followed or lost
    r"|klik (?:di ?sini|link ini|tautan ini) untuk (?:membaca|baca)(?: (?:berita|artikel))?"
    r" (?:se)?lengkapnya"
    # share bars whose buttons lost their icons
    r"|(?:bagikan|share|sebarkan)(?: (?:artikel|berita|ke|this))?(?: ini)?"
    r"|(?:(?:facebook|twitter|x|whatsapp|telegram|line|linkedin|pinterest|e-?mail|tiktok"
    r"|instagram|copy link|salin (?:tautan|link))(?:\s*[|,·•/]\s*|\s+|$)){2,}"
    # a timestamp left from the byline ("Rabu, 05 Februari 2025 | 17:05 WIB")
    r"|(?:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu)\s*,\s*\d{1,2}\s+\w+\s+\d{4}"
    r"(?:\s*[|,\-\u2013]?\s*(?:pukul\s+)?\d{1,2}[.:]\d{2}(?:\s*(?:wib|wita|wit))?)?"
    # Kompas' byline when no reporter is named, left alone on its line in a copied report
    r"|tim redaksi"
    # a label for a picture that is not there ("ILUSTRASI", "(Ist)")
    r"|\(?(?:foto\s+)?(?:ilustrasi|istimewa|ist|dok(?:umentasi)?\.?\s*istimewa)\)?"
    rf"){_DECOR}$",
    re.IGNORECASE,
)
# "Simak Video 'Banjir Rob ...'", "Saksikan video pilihan di bawah ini:": the player was an
# embed (dropped with the other iframes), so the line introduces nothing.
_VIDEO_TEASER = re.compile(
    r"^(?:simak|tonton|saksikan|lihat|cek|putar)(?:\s+(?:juga|pula))?\s+(?:\w+\s+)?video\b",
    re.IGNORECASE,
)


def is_noise_line(line: str) -> bool:
    """A whole line that is page furniture, never story."""
    if len(line) >= _LINE_MAX:
        return False
    if _NOISE_LINE.match(line) is not None:
        return True
    return _VIDEO_TEASER.match(line) is not None and not line.rstrip(" ”\"’'").endswith(".")


# --- promos -----------------------------------------------------------------------------------

# A call to follow the site: an imperative first, a channel in the line, news as the object.
# Not the story's own openers that share a word with it: "Cek fakta: beredar kabar di
# WhatsApp ..." (the hoax checks every portal runs), a live report's "Update 14.30 WIB: ...",
# "Follow up laporan warga di Facebook, ...".
_PROMO_START = re.compile(
    # an emoji or arrow may point at it first ("📲 Gabung saluran WhatsApp kami: ...")
    r"^[^\w\s\"“”'‘’(\[]*\s*"
    r"(?:ikuti|follow(?![\s-]+up\b)|dapatkan|simak|(?:mari |ayo |yuk,? )?(?:gabung|bergabung)"
    r"|yuk|ayo|jangan lupa|download|unduh|install|instal|baca|klik|cek(?!\s+fakta\b)|pantau"
    r"|kunjungi|subscribe|berlangganan|langganan|nikmati|update(?!\s*(?:[:\-\u2013\u2014]|\d)))\b",
    re.IGNORECASE,
)
_PROMO_CHANNEL = re.compile(
    r"google news|whatsapp|\bwa channel\b|telegram|play ?store|app ?store|google play|appgallery"
    r"|klik (?:di ?sini|link|tautan)|instagram|tiktok|youtube|facebook|twitter|\bx\.com\b",
    re.IGNORECASE,
)
_PROMO_APP = re.compile(r"^(?:download|unduh|install|instal)\s+(?:aplikasi|app)\b", re.I)
# The site's own news. "Informasi" and "kabar" count only as the promos word them ("informasi
# terkini"): "simak informasi lengkap soal modus penipuan via WhatsApp berikut ini" is story.
# "Kami" only as the site ("ikuti kami di Instagram", "saluran WhatsApp kami"), not an
# official's "akan kami tindak". A channel or group the site runs is the object too ("Gabung
# WhatsApp Channel Kabar Banten, klik di sini"): the line already starts with a call to follow.
_PROMO_OBJECT = re.compile(
    r"berita|news|update|artikel|(?:informasi|kabar) (?:terkini|terbaru|menarik|lainnya)"
    r"|\b(?:ikuti|follow|bersama|gabung)\s+kami\b|\bkami\s+(?:juga\s+)?di\b"
    r"|\b(?:whatsapp|wa|telegram|instagram|tiktok|youtube|facebook)\s+kami\b"
    # a channel by its app or as the site's: "saluran irigasi" (an irrigation channel) is not
    r"|\b(?:saluran|channel)\s+(?:whatsapp|wa|telegram|youtube|resmi|kami)\b"
    r"|\b(?:whatsapp|wa|telegram)\s+channel\b",
    re.I,
)
# Someone speaking (an attribution verb) makes the line story, whatever it says. Quotation
# marks alone do not: promos quote the group's name ("Kompas.com News Update").
_SPEECH = re.compile(
    r"\b(?:kata|ujar|ungkap|jelas|tutur|imbuh|tegas|sebut|imbau|pesan|harap|minta)(?:nya)?\b",
    re.IGNORECASE,
)
# "Artikel ini telah tayang di Tribunnews.com dengan judul ...": a syndication note.
_SYNDICATED = re.compile(
    r"^(?:artikel|berita|tulisan) ini (?:telah |sudah |pertama kali )?"
    r"(?:tayang|terbit|dimuat|diterbitkan|dipublikasikan)\b",
    re.IGNORECASE,
)


def is_promo_line(line: str) -> bool:
    """A paragraph asking the reader to follow the site elsewhere (Google News, Telegram,
    WhatsApp Channel, the app), or noting where the article first appeared."""
    if len(line) > _PROMO_MAX:
        return False
    if _SYNDICATED.match(line):
        return True
    if _PROMO_START.match(line) is None or _SPEECH.search(line):
        return False
    channel = _PROMO_CHANNEL.search(line) or _PROMO_APP.match(line)
    return channel is not None and _PROMO_OBJECT.search(line) is not None


# --- captions, rights, credits ----------------------------------------------------------------

# A photo caption or credit pasted with the text ("Foto: Warga mengungsi ... (MEDIA/Budi)",
# "(Foto: Istimewa)", "Foto/Ilustrasi: ...", "Sumber Foto: ...", "(Gambar: Istimewa)"): it
# describes a picture a text report does not have. A press release's picture is credited to
# the office alone: "Dok. Humas Pemkab Lebak", "(Dok. Diskominfo)", "Dokumentasi: Humas
# Polres": a name, no sentence ("Dokumentasi kegiatan diunggah ke situs desa." is story).
_CAPTION_LINE = re.compile(
    r"^\(?\s*(?:(?:sumber\s+)?(?:foto|gambar|ilustrasi)(?:\s*/\s*\w+)?\s*:\s*\S"
    r"|dok(?:\.|umentasi\b)\s*:?\s*[^\s.!?:][^.!?]{1,60}\)?$)",
    re.I,
)
# ... or one that ends with the photo's credit, as detik's and Antara's do: "Warga memakai
# masker di Serang. Foto: Nama/detikHealth", "... rob (Foto: Nama/detikcom)", "... (11/3/2025).
# ANTARA FOTO/Asep Fathulrahman/nym." A story paragraph ends with its sentence, not a credit.
# Case-sensitive: "... mengunggah foto/video kejadian itu." is story.
_CREDIT_END = re.compile(
    r"(?:\(\s*(?:Foto|FOTO|foto|Photo)\s*:[^()]{2,80}\)"
    r"|\b(?:Foto|FOTO|Photo)\s*:\s*[^.:()]{2,60}/[^.:()]{2,40}"
    r"|\b[A-Z]{2,}(?:\s[A-Z]{2,}){0,2}\s+FOTO\s*/[^()]{2,80})$"
)


def is_caption_line(line: str) -> bool:
    if len(line) >= 300:
        return False
    if _CAPTION_LINE.match(line) is not None:
        return True
    # The credit search scans the whole line; a line naming no photo skips it (~20 us a line).
    return ("oto" in line or "OTO" in line) and _CREDIT_END.search(line) is not None


# "COPYRIGHT © ANTARA 2026", "Hak cipta © 2026 MEDIA", "Hak Cipta Dilindungi Undang-Undang":
# the wire service's notice under a report; "Dilarang keras mengambil konten, melakukan
# crawling ... tanpa izin tertulis dari Kantor Berita ANTARA.": the notice antaranews.com now
# prints after it. A notice carries its marks (©, a year, "dilindungi"; the site's content and
# "izin"): a last paragraph "Hak cipta lagu itu kini dipegang ahli warisnya." or "Dilarang
# mengambil foto di area bandara, tegas petugas." is story.
_COPYRIGHT_RE = re.compile(
    r"^(?:©.{0,100}"
    r"|(?:copyright|hak cipta)\b(?=.*(?:©|\(c\)|\b(?:19|20)\d\d\b|reserved|dilindungi)).{0,100}"
    r"|dilarang(?: keras)? (?:mengambil|mengutip|menyalin|memperbanyak|menyebarluaskan"
    r"|mereproduksi|menggunakan)\b(?=.*\b(?:konten|artikel|berita|tulisan|materi)\b)"
    r"(?=.*\b(?:izin|seizin)\b).{0,300})$",
    re.IGNORECASE,
)


def is_copyright(line: str) -> bool:
    """A copyright or reuse notice line."""
    return _COPYRIGHT_RE.match(line) is not None


# "Oleh: Nama" is the byline of an opinion piece or a press release, above or below it.
_ROLES = (
    r"penulis|reporter|pewarta|kontributor|wartawan|jurnalis|laporan|editor|redaktur"
    r"|penyunting|sumber|fotografer|oleh"
)
# Each "Role: Name" of a credit line. Kompas prints "Penulis : Kontributor Serang, Nama" and
# "Editor : Nama" on lines of their own, which a copied text (or a body without its <br>)
# runs together: "Penulis : Kontributor Surabaya, Nama Editor : Nama"; other sites put
# "Penulis: Nama | Editor: Nama" on one line. A small desk's reporter edits their own report:
# "Penulis/Editor: Nama", one person in both roles.
_BOTH_ROLES = rf"(?:{_ROLES})(?:\s*[/&]\s*(?:{_ROLES}))*"
_ROLE_RE = re.compile(rf"(?:^|(?<=\s)|(?<=[|/,;·•]))(?P<role>{_BOTH_ROLES})\s*:\s*", re.IGNORECASE)
_ROLE_START = re.compile(rf"{_BOTH_ROLES}\s*:", re.IGNORECASE)
_ROLE_SPLIT = re.compile(r"\s*[/&]\s*")
_CREDIT_SEPARATORS = " |/,;·•-–—"
_NAME_MIN, _NAME_MAX = 2, 80
# "Kontributor Serang, Rasyid Ridho": the reporter's post, then the name.
_POSTED = re.compile(r"^(?:kontributor|koresponden|wartawan)\s+[^,]{2,40},\s*(?=\S)", re.I)
_AUTHOR_ROLES = {
    "penulis", "reporter", "pewarta", "kontributor", "wartawan", "jurnalis", "laporan", "oleh",
}  # fmt: skip
# Tribun's first line: "Laporan Wartawan TribunBanten.com, Marteen Ronaldo Pakpahan".
_REPORTED_BY = re.compile(
    r"^laporan\s+(?:wartawan|reporter|kontributor|jurnalis)\s+[^,]{2,60},\s*(?P<name>[^,]{2,80})$",
    re.IGNORECASE,
)
# Tribun's last line: "(TribunBanten.com/Marteen Ronaldo Pakpahan)". The source must look like
# a site name, so "(Foto/Ilustrasi)" or "(rls/red)" are not taken for a reporter.
_SITE_SLASH_NAME = re.compile(
    r"^\(\s*[A-Za-z][\w-]*(?:\.[a-z]{2,6}){1,2}\s*/\s*(?P<name>[^()/]{2,80})\)$"
)


def _credits(line: str) -> list[tuple[str, str]] | None:
    """[(role, name), ...] when the whole line is credits, else None; a name in two roles
    ("Penulis/Editor: Nama") is credited in each."""
    if _ROLE_START.match(line) is None:  # most lines are story: one anchored match, not a scan
        return None
    marks = list(_ROLE_RE.finditer(line))
    credits: list[tuple[str, str]] = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following is not None else len(line)
        name = line[mark.end() : end].strip(_CREDIT_SEPARATORS)
        if not _NAME_MIN <= len(name) <= _NAME_MAX:
            return None
        credits.extend((role, name) for role in _ROLE_SPLIT.split(mark.group("role").lower()))
    return credits


def match_credit(line: str) -> tuple[bool, str] | None:
    """A credit line -> (names an author?, name): "Penulis: Nama", "Editor: Nama",
    "Penulis: Nama | Editor: Nama" (the author), "Penulis/Editor: Nama", "Oleh: Nama",
    "Laporan Wartawan Site.com, Nama", "(Site.com/Nama)"."""
    credits = _credits(line)
    if credits is not None:
        authors = [name for role, name in credits if role in _AUTHOR_ROLES]
        if authors:
            return True, _POSTED.sub("", authors[0])
        return False, credits[0][1]
    m = _REPORTED_BY.match(line) or _SITE_SLASH_NAME.match(line)
    if m is not None:
        return True, m.group("name").strip()
    return None
