"""Payloads as WordPress and Ghost send them, field for field, with Indonesian regional news.

Shapes copied from real output: a WordPress 6 `/wp-json/wp/v2/posts?_embed` page (guid,
`*_gmt` dates without a zone, `_links`, `_embedded.author` holding an error object when a site
hides its users, `wp:term` as one list per taxonomy, HTML entities in rendered titles), the WP
Webhooks plugin's post_create/post_update/post_trash bodies (its get_demo() and
ironikus_trigger_post_create), and Ghost 5 webhook bodies (test/e2e-webhooks snapshots).
"""

from __future__ import annotations

import copy
from typing import Any

SITE = "https://bantenpos.example"

WP_CONTENT = (
    "<p><strong>SERANG, BANTENPOS</strong> &#8211; Pemerintah Kabupaten Serang menetapkan "
    "status tanggap darurat banjir selama 14 hari setelah hujan deras mengguyur wilayah itu "
    "sejak Senin (3/11/2026) malam. Sedikitnya 1.250 rumah di enam kecamatan terendam.</p>\n\n"
    "<p>Bupati Serang, Hj. Ratu Tatu Chasanah, mengatakan keputusan itu diambil dalam rapat "
    "koordinasi di Pendopo Bupati. &#8220;Kami tidak mau menunggu air surut baru bergerak. "
    "Semua dinas turun hari ini,&#8221; ujarnya.</p>\n\n"
    '<p><strong>Baca Juga:</strong> <a href="https://bantenpos.example/2026/11/02/'
    'jembatan-ciujung-putus/">Jembatan Ciujung Putus Diterjang Arus</a></p>\n\n'
    "<p>Kepala Pelaksana BPBD Kab. Serang, H. Nana Suryana, menyebut anggaran belanja tidak "
    "terduga sebesar Rp1,5 miliar disiapkan untuk dapur umum, perahu karet, dan obat-obatan."
    "</p>\n\n"
    "<p>Di Kec. Cikande, warga mengungsi ke masjid dan gedung sekolah. Siti Aminah (42), "
    "warga Desa Julang, mengaku baru sempat menyelamatkan dokumen penting.</p>\n"
)

WP_AUTO_EXCERPT = (
    "<p>SERANG, BANTENPOS &#8211; Pemerintah Kabupaten Serang menetapkan status tanggap "
    "darurat banjir selama 14 hari setelah hujan deras mengguyur wilayah itu sejak Senin "
    "(3/11/2026) malam. Sedikitnya 1.250 rumah di enam kecamatan terendam. Bupati Serang, "
    "Hj. Ratu Tatu Chasanah, mengatakan keputusan itu diambil dalam rapat koordinasi "
    "[&hellip;]</p>\n"
)


def _links(post_id: int) -> dict[str, Any]:
    api = f"{SITE}/wp-json/wp/v2"
    return {
        "self": [{"href": f"{api}/posts/{post_id}", "targetHints": {"allow": ["GET"]}}],
        "collection": [{"href": f"{api}/posts"}],
        "about": [{"href": f"{api}/types/post"}],
        "author": [{"embeddable": True, "href": f"{api}/users/3"}],
        "replies": [{"embeddable": True, "href": f"{api}/comments?post={post_id}"}],
        "wp:featuredmedia": [{"embeddable": True, "href": f"{api}/media/{post_id + 1}"}],
        "wp:attachment": [{"href": f"{api}/media?parent={post_id}"}],
        "wp:term": [
            {
                "taxonomy": "category",
                "embeddable": True,
                "href": f"{api}/categories?post={post_id}",
            },
            {"taxonomy": "post_tag", "embeddable": True, "href": f"{api}/tags?post={post_id}"},
        ],
        "curies": [{"name": "wp", "href": "https://api.w.org/{rel}", "templated": True}],
    }


def wp_rest_post(post_id: int = 48213, **overrides: Any) -> dict[str, Any]:
    """GET /wp-json/wp/v2/posts/<id>?_embed on a site in Asia/Jakarta (UTC+7)."""
    slug = "banjir-rendam-1-250-rumah-di-kabupaten-serang"
    post: dict[str, Any] = {
        "id": post_id,
        "date": "2026-11-04T10:15:00",
        "date_gmt": "2026-11-04T03:15:00",
        "guid": {"rendered": f"{SITE}/?p={post_id}"},
        "modified": "2026-11-04T11:02:41",
        "modified_gmt": "2026-11-04T04:02:41",
        "slug": slug,
        "status": "publish",
        "type": "post",
        "link": f"{SITE}/2026/11/04/{slug}/",
        "title": {"rendered": "Banjir Rendam 1.250 Rumah di Kabupaten Serang &#8211; BPBD Siaga"},
        "content": {"rendered": WP_CONTENT, "protected": False},
        "excerpt": {"rendered": WP_AUTO_EXCERPT, "protected": False},
        "author": 3,
        "featured_media": post_id + 1,
        "comment_status": "open",
        "ping_status": "open",
        "sticky": False,
        "template": "",
        "format": "standard",
        "meta": {"footnotes": ""},
        "categories": [12],
        "tags": [301, 302],
        "class_list": [f"post-{post_id}", "post", "type-post", "status-publish"],
        "_links": _links(post_id),
        "_embedded": {
            "author": [
                {
                    "id": 3,
                    "name": "Ahmad Fauzi",
                    "url": "",
                    "description": "",
                    "link": f"{SITE}/author/ahmad-fauzi/",
                    "slug": "ahmad-fauzi",
                    "avatar_urls": {"24": "https://secure.gravatar.com/avatar/0?s=24&d=mm&r=g"},
                    "_links": {"self": [{"href": f"{SITE}/wp-json/wp/v2/users/3"}]},
                }
            ],
            "wp:featuredmedia": [
                {
                    "id": post_id + 1,
                    "date": "2026-11-04T10:10:12",
                    "slug": "banjir-serang",
                    "type": "attachment",
                    "link": f"{SITE}/?attachment_id={post_id + 1}",
                    "title": {"rendered": "banjir-serang"},
                    "author": 3,
                    "featured_media": 0,
                    "caption": {
                        "rendered": "<p>Warga menerobos banjir di Cikande, Selasa (4/11/2026)."
                        " (FOTO: BANTENPOS)</p>\n"
                    },
                    "alt_text": "Banjir di Cikande",
                    "media_type": "image",
                    "mime_type": "image/jpeg",
                    "media_details": {
                        "width": 1280,
                        "height": 720,
                        "file": "2026/11/banjir-serang.jpg",
                        "filesize": 181223,
                        "sizes": {
                            "thumbnail": {
                                "file": "banjir-serang-150x150.jpg",
                                "width": 150,
                                "height": 150,
                                "mime_type": "image/jpeg",
                                "source_url": f"{SITE}/wp-content/uploads/2026/11/"
                                "banjir-serang-150x150.jpg",
                            }
                        },
                        "image_meta": {"credit": "", "caption": "", "keywords": []},
                    },
                    "source_url": f"{SITE}/wp-content/uploads/2026/11/banjir-serang.jpg",
                    "_links": {"self": [{"href": f"{SITE}/wp-json/wp/v2/media/{post_id + 1}"}]},
                }
            ],
            "wp:term": [
                [
                    {
                        "id": 12,
                        "link": f"{SITE}/category/banten/",
                        "name": "Banten",
                        "slug": "banten",
                        "taxonomy": "category",
                        "_links": {"self": [{"href": f"{SITE}/wp-json/wp/v2/categories/12"}]},
                    }
                ],
                [
                    {
                        "id": 301,
                        "link": f"{SITE}/tag/banjir/",
                        "name": "banjir",
                        "slug": "banjir",
                        "taxonomy": "post_tag",
                    },
                    {
                        "id": 302,
                        "link": f"{SITE}/tag/bpbd-kabupaten-serang/",
                        "name": "BPBD &amp; Damkar",
                        "slug": "bpbd-damkar",
                        "taxonomy": "post_tag",
                    },
                ],
            ],
        },
    }
    post.update(overrides)
    return post


def wp_webhook(
    trigger: str = "post_create", post_id: int = 48213, **post_fields: Any
) -> dict[str, Any]:
    """What WP Webhooks POSTs for post_create / post_update / post_trash (JSON, its default)."""
    slug = "festival-kopi-pandeglang-2026"
    post: dict[str, Any] = {
        "ID": post_id,
        "post_author": "3",
        "post_date": "2026-11-04 10:15:00",
        "post_date_gmt": "2026-11-04 03:15:00",
        # The classic editor stores paragraphs as blank lines; <p> comes from wpautop on display.
        "post_content": (
            '[caption id="attachment_48214" align="aligncenter" width="1280"]'
            f'<img class="size-full wp-image-48214" src="{SITE}/wp-content/uploads/2026/11/'
            'kopi.jpg" alt="Festival kopi" width="1280" height="720" /> Pengunjung mencicipi kopi'
            " robusta Pandeglang. (FOTO: BANTENPOS)[/caption]\n\n"
            "PANDEGLANG, BANTENPOS – Festival Kopi Pandeglang 2026 digelar di Alun-alun "
            "Pandeglang selama tiga hari mulai Jumat (6/11/2026). Sebanyak 40 petani kopi dari "
            "sepuluh kecamatan ikut memamerkan hasil panen.\n\n"
            "Kepala Dinas Pertanian Pandeglang mengatakan produksi kopi robusta naik 12 persen "
            "dibanding tahun lalu. “Petani kita makin paham cara petik merah,” ujarnya.\n\n"
            "Festival juga menghadirkan lomba seduh manual dan kelas sangrai untuk pelajar SMK "
            "di Pandeglang."
        ),
        "post_title": "Festival Kopi Pandeglang 2026 Hadirkan 40 Petani",
        "post_excerpt": "",
        "post_status": "publish",
        "comment_status": "open",
        "ping_status": "open",
        "post_password": "",
        "post_name": slug,
        "to_ping": "",
        "pinged": "",
        "post_modified": "2026-11-04 10:15:00",
        "post_modified_gmt": "2026-11-04 03:15:00",
        "post_content_filtered": "",
        "post_parent": 0,
        "guid": f"{SITE}/?p={post_id}",
        "menu_order": 0,
        "post_type": "post",
        "post_mime_type": "",
        "comment_count": "0",
        "filter": "raw",
    }
    post.update(post_fields)
    body: dict[str, Any] = {
        "post_id": post_id,
        "post": post,
        "post_meta": {"_thumbnail_id": ["48214"], "_edit_lock": ["1762226100:3"]},
        "post_thumbnail": f"{SITE}/wp-content/uploads/2026/11/kopi.jpg",
        "post_permalink": f"{SITE}/2026/11/04/{slug}/",
        "taxonomies": {
            "category": {
                "ekonomi": {
                    "term_id": 14,
                    "name": "Ekonomi",
                    "slug": "ekonomi",
                    "term_group": 0,
                    "term_taxonomy_id": 14,
                    "taxonomy": "category",
                    "description": "",
                    "parent": 0,
                    "count": 210,
                    "filter": "raw",
                }
            },
            "post_tag": {
                "kopi": {
                    "term_id": 401,
                    "name": "kopi",
                    "slug": "kopi",
                    "term_group": 0,
                    "term_taxonomy_id": 401,
                    "taxonomy": "post_tag",
                    "description": "",
                    "parent": 0,
                    "count": 9,
                    "filter": "raw",
                }
            },
        },
    }
    if trigger == "post_update":
        body["post_before"] = copy.deepcopy(post)
    return body


GHOST_SITE = "https://warta-lebak.example"
GHOST_HTML = (
    "<p>LEBAK – Puluhan siswa SDN 2 Cibeber belajar di tenda darurat setelah atap dua ruang "
    "kelas ambruk pada Rabu (5/11/2026) dini hari. Tidak ada korban karena kejadian di luar "
    "jam sekolah.</p><p>Kepala sekolah, Dedi Mulyadi, mengatakan pihaknya sudah melapor ke "
    "Dinas Pendidikan Kabupaten Lebak sejak awal tahun. “Kayunya sudah lapuk,” katanya.</p>"
    '<figure class="kg-card kg-image-card"><img src="https://warta-lebak.example/content/'
    'images/2026/11/tenda.jpg" class="kg-image" alt="Tenda darurat" loading="lazy" '
    'width="1200" height="800"></figure><p>Dinas Pendidikan menjanjikan perbaikan dengan '
    "anggaran perubahan tahun ini.</p>"
)


def ghost_post(**overrides: Any) -> dict[str, Any]:
    """A Ghost 5 post as its webhooks serialise it (formats html + plaintext, tags, authors)."""
    tag = {
        "id": "6543c2f1a7d9e40001a1b2c3",
        "name": "Pendidikan",
        "slug": "pendidikan",
        "description": None,
        "feature_image": None,
        "visibility": "public",
        "og_image": None,
        "og_title": None,
        "og_description": None,
        "twitter_image": None,
        "twitter_title": None,
        "twitter_description": None,
        "meta_title": None,
        "meta_description": None,
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "canonical_url": None,
        "accent_color": None,
        "created_at": "2025-02-11T02:10:00.000Z",
        "updated_at": "2025-02-11T02:10:00.000Z",
        "url": f"{GHOST_SITE}/tag/pendidikan/",
    }
    author = {
        "id": "6543c2f1a7d9e40001a1b200",
        "name": "Rina Marlina",
        "slug": "rina",
        "email": "rina@warta-lebak.example",
        "profile_image": None,
        "cover_image": None,
        "bio": None,
        "website": None,
        "location": "Rangkasbitung",
        "facebook": None,
        "twitter": None,
        "accessibility": None,
        "status": "active",
        "meta_title": None,
        "meta_description": None,
        "tour": None,
        "last_seen": "2026-11-05T03:55:12.000Z",
        "comment_notifications": True,
        "free_member_signup_notification": True,
        "paid_subscription_started_notification": True,
        "paid_subscription_canceled_notification": False,
        "created_at": "2025-02-11T02:00:00.000Z",
        "updated_at": "2026-11-05T03:55:12.000Z",
        "roles": [{"id": "6543c2f1a7d9e40001a1b201", "name": "Author"}],
        "url": f"{GHOST_SITE}/author/rina/",
    }
    internal = {
        **tag,
        "id": "6543c2f1a7d9e40001a1b2c4",
        "name": "#fediverse",
        "slug": "hash-fediverse",
        "visibility": "internal",
        "url": f"{GHOST_SITE}/404/",
    }
    slug = "siswa-sdn-2-cibeber-belajar-di-tenda"
    post: dict[str, Any] = {
        "id": "6722a0c4b1e2f30001d4e5f6",
        "uuid": "0b5c7d3e-2a41-4c59-9e8f-61a2b3c4d5e6",
        "title": "Atap Ambruk, Siswa SDN 2 Cibeber Belajar di Tenda",
        "slug": slug,
        "mobiledoc": None,
        "lexical": '{"root":{"children":[],"type":"root","version":1}}',
        "html": GHOST_HTML,
        "comment_id": "6722a0c4b1e2f30001d4e5f6",
        "plaintext": "LEBAK – Puluhan siswa SDN 2 Cibeber belajar di tenda darurat ...",
        "feature_image": f"{GHOST_SITE}/content/images/2026/11/sdn-cibeber.jpg",
        "feature_image_alt": "Tenda darurat di halaman SDN 2 Cibeber",
        "feature_image_caption": '<span style="white-space: pre-wrap;">Siswa belajar di tenda'
        " darurat, Rabu (5/11/2026).</span>",
        "featured": False,
        "status": "published",
        "visibility": "public",
        "created_at": "2026-11-05T03:40:00.000Z",
        "updated_at": "2026-11-05T04:02:10.000Z",
        "published_at": "2026-11-05T04:00:00.000Z",
        "custom_excerpt": "Dua ruang kelas ambruk; dinas menjanjikan perbaikan tahun ini.",
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "custom_template": None,
        "canonical_url": None,
        "newsletter_id": None,
        "show_title_and_feature_image": True,
        "email_segment": "all",
        "email_only": False,
        "email_subject": None,
        "frontmatter": None,
        "tags": [tag, internal],
        "tiers": [],
        "authors": [author],
        "primary_author": author,
        "primary_tag": tag,
        "email": None,
        "url": f"{GHOST_SITE}/{slug}/",
        "excerpt": "Dua ruang kelas ambruk; dinas menjanjikan perbaikan tahun ini.",
        "reading_time": 1,
        "og_image": None,
        "og_title": None,
        "og_description": None,
        "twitter_image": None,
        "twitter_title": None,
        "twitter_description": None,
        "meta_title": None,
        "meta_description": None,
    }
    post.update(overrides)
    return post


def ghost_body(event: str, **overrides: Any) -> dict[str, Any]:
    """The body of a Ghost post.* webhook."""
    post = ghost_post(**overrides)
    if event == "post.deleted":
        return {"post": {"current": {}, "previous": post}}
    if event == "post.unpublished":
        current = {**post, "status": "draft", "url": f"{GHOST_SITE}/p/{post['uuid']}/"}
        previous = {"status": "published", "updated_at": post["updated_at"]}
        return {"post": {"current": current, "previous": previous}}
    if event == "post.published.edited":
        return {"post": {"current": post, "previous": {"title": "Atap Ambruk di Cibeber"}}}
    return {"post": {"current": post, "previous": {"status": "draft", "published_at": None}}}
