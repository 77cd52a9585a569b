"""Finding our accounts and reading what they published, over real loopback HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from siarkan.articles.model import Article
from siarkan.config import Settings
from siarkan.federation import publish
from siarkan.store.articles import retract_article, upsert_article
from siarkan.store.db import Database
from siarkan.store.tables import posts
from tests.federation.conftest import Running, start
from tests.federation.test_publish import SERIES, all_rows, store

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def get(
    http: aiohttp.ClientSession, url: str, accept: str = AP, **kwargs: Any
) -> tuple[int, dict[str, str], Any]:
    async with http.get(url, headers={"Accept": accept}, allow_redirects=False, **kwargs) as r:
        text = await r.text()
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        return r.status, dict(r.headers), body


async def publish_report(
    running: Running, article: Article, now: datetime, *, restore: bool = False
) -> None:
    """What an import does (restore=True: an editor's push through the admin API)."""
    async with running.db.begin() as conn:
        result = await upsert_article(conn, article, now=now, restore=restore)
        await publish.on_article_change(
            conn, running.settings, result.article, previous=None, now=now
        )


async def test_webfinger_round_trip_as_mastodon_checks_it(
    running: Running, http: aiohttp.ClientSession
) -> None:
    host = running.settings.site.host
    status, headers, jrd = await get(
        http, running.url(f"/.well-known/webfinger?resource=acct:prologmedia@{host}"), "*/*"
    )
    assert status == 200
    assert headers["Content-Type"].startswith("application/jrd+json")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert jrd["subject"] == f"acct:prologmedia@{host}"
    self_link = next(link for link in jrd["links"] if link["rel"] == "self")
    assert self_link["type"] == AP
    # Mastodon: fetch the actor, then look up acct:preferredUsername@host-of-id again.
    status, _, actor = await get(http, self_link["href"])
    assert status == 200 and actor["id"] == self_link["href"]
    actor_host = actor["id"].split("/")[2]
    _, _, again = await get(
        http,
        running.url(
            f"/.well-known/webfinger?resource=acct:{actor['preferredUsername']}@{actor_host}"
        ),
    )
    assert next(link for link in again["links"] if link["rel"] == "self")["href"] == actor["id"]
    # By actor URL too, and with the profile page and subscribe template.
    _, _, by_url = await get(http, running.url(f"/.well-known/webfinger?resource={actor['id']}"))
    assert by_url["subject"] == jrd["subject"]
    rels = {link["rel"] for link in jrd["links"]}
    assert "http://webfinger.net/rel/profile-page" in rels
    assert "http://ostatus.org/schema/1.0/subscribe" in rels


@pytest.mark.parametrize(
    "resource",
    ["acct:nobody@{host}", "acct:prologmedia@other.example", "https://other.example/ap/actors/x"],
)
async def test_webfinger_unknown_is_404(
    running: Running, http: aiohttp.ClientSession, resource: str
) -> None:
    resource = resource.format(host=running.settings.site.host)
    status, _, _ = await get(http, running.url(f"/.well-known/webfinger?resource={resource}"))
    assert status == 404


async def test_actor_document(running: Running, http: aiohttp.ClientSession) -> None:
    status, headers, actor = await get(http, running.url("/ap/actors/utama"), LD)
    assert status == 200
    assert headers["Content-Type"] == LD
    assert "Accept" in headers["Vary"]
    assert "https://w3id.org/security/v1" in actor["@context"]
    assert actor["type"] == "Organization"
    assert actor["preferredUsername"] == "prologmedia"
    assert actor["url"] == running.url("/@prologmedia")
    assert actor["publicKey"]["id"] == actor["id"] + "#main-key"
    assert actor["publicKey"]["owner"] == actor["id"]
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in json.dumps(actor)
    assert actor["endpoints"]["sharedInbox"] == running.url("/ap/inbox")
    for name in ("inbox", "outbox", "followers", "following", "featured"):
        assert actor[name] == f"{actor['id']}/{name}"
    assert actor["discoverable"] is True and actor["indexable"] is True
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["published"].endswith("Z")
    (field,) = actor["attachment"]
    assert (
        field["type"] == "PropertyValue"
        and 'rel="nofollow noopener noreferrer me"' in field["value"]
    )


@pytest.mark.parametrize(("accept", "expected"), [(AP, AP), (LD, LD), (f"{LD}, {AP}", AP)])
async def test_the_content_type_is_the_one_asked_for(
    running: Running,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
    accept: str,
    expected: str,
) -> None:
    now = datetime.now(UTC)
    await publish_report(running, make_article(published_at=now - timedelta(minutes=1)), now)
    _, _, outbox = await get(http, running.url("/ap/actors/banten/outbox?page=true"))
    (create,) = outbox["orderedItems"]
    for url in (
        running.url("/ap/actors/utama"),
        running.url("/ap/actors/utama/outbox"),
        running.url("/ap/actors/utama/followers"),
        create["id"],
        create["object"]["id"],
    ):
        status, headers, document = await get(http, url, accept)
        assert status == 200 and document["id"] == url
        # AP §3.2 writes the JSON-LD form exactly so (JSON has no charset to declare).
        assert headers["Content-Type"] == (expected if expected == LD else f"{AP}; charset=utf-8")
        assert headers["Vary"] == "Accept"


async def test_browsers_get_the_profile_page(running: Running, http: aiohttp.ClientSession) -> None:
    status, headers, _ = await get(http, running.url("/ap/actors/utama"), BROWSER)
    assert status == 302 and headers["Location"] == running.url("/@prologmedia")
    status, headers, page = await get(http, running.url("/@prologmedia"), BROWSER)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "@prologmedia@" in page and "Berita dari Banten" in page
    # An ActivityPub client asking the profile URL is sent to the actor.
    status, headers, _ = await get(http, running.url("/@prologmedia"))
    assert status == 302 and headers["Location"] == running.url("/ap/actors/utama")


async def test_host_meta_and_nodeinfo(running: Running, http: aiohttp.ClientSession) -> None:
    status, headers, xrd = await get(http, running.url("/.well-known/host-meta"), "*/*")
    assert status == 200 and "application/xrd+xml" in headers["Content-Type"]
    assert 'rel="lrdd"' in xrd and "/.well-known/webfinger?resource={uri}" in xrd
    _, _, links = await get(http, running.url("/.well-known/nodeinfo"), "*/*")
    hrefs = {link["rel"].rsplit("/", 1)[1]: link["href"] for link in links["links"]}
    assert set(hrefs) == {"2.0", "2.1"}
    for version, href in hrefs.items():
        status, headers, info = await get(http, href, "*/*")
        assert status == 200
        assert info["version"] == version
        assert info["software"]["name"] == "siarkan"
        assert info["protocols"] == ["activitypub"]
        assert info["usage"]["users"]["total"] == 2
        assert {"activeMonth", "activeHalfyear"} <= set(info["usage"]["users"])
        assert "localPosts" in info["usage"]
        assert ("repository" in info["software"]) == (version == "2.1")


async def test_posts_outbox_and_tombstones(
    running: Running, http: aiohttp.ClientSession, make_article: Callable[..., Article]
) -> None:
    now = datetime.now(UTC)
    article = make_article(published_at=now - timedelta(minutes=1))
    await publish_report(running, article, now)

    status, _, outbox = await get(http, running.url("/ap/actors/banten/outbox"))
    assert status == 200 and outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 1
    _, _, page = await get(http, outbox["first"])
    assert page["type"] == "OrderedCollectionPage"
    (create,) = page["orderedItems"]
    note = create["object"]
    assert create["type"] == "Create" and note["type"] == "Note"

    # The object is dereferenceable at its id; browsers go to the article.
    status, _, fetched = await get(http, note["id"])
    assert status == 200 and fetched["id"] == note["id"] and fetched["content"] == note["content"]
    status, headers, _ = await get(http, note["id"], BROWSER)
    assert status == 302 and headers["Location"] == note["url"]
    # Pasting the post's url (the article page) into Mastodon's search: the page is HTML, so
    # it follows the page's ActivityPub alternate (Link header, else <link>) to a post.
    status, headers, page_html = await get(http, note["url"])
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    alternate = re.search(r'<([^>]+)>; rel="alternate"; type="application/activity\+json"',
                          headers["Link"])  # fmt: skip
    assert alternate is not None
    assert f'<link rel="alternate" type="{AP}" href="{alternate[1]}">' in page_html
    status, _, found = await get(http, alternate[1])
    assert status == 200 and found["type"] == "Note" and found["url"] == note["url"]
    status, _, activity = await get(http, create["id"])
    assert status == 200 and activity["id"] == create["id"]

    async with running.db.begin() as conn:
        retracted = await retract_article(conn, article.id, now=now)
        assert retracted is not None
        await publish.on_article_change(
            conn, running.settings, retracted, previous=article, now=now
        )
    status, _, tombstone = await get(http, note["id"])
    assert status == 410 and tombstone["type"] == "Tombstone"
    assert tombstone["id"] == note["id"] and tombstone["formerType"] == "Note"
    # The Create embedding the retracted text is gone with it.
    status, _, gone = await get(http, create["id"])
    assert status == 410 and gone["type"] == "Tombstone" and gone["id"] == create["id"]
    assert "content" not in json.dumps(gone)
    status, _, _ = await get(http, create["id"], BROWSER)
    assert status == 410
    _, _, outbox = await get(http, running.url("/ap/actors/banten/outbox"))
    assert outbox["totalItems"] == 0


async def test_a_report_published_again_lives_at_new_ids_and_the_old_ones_stay_gone(
    running: Running, http: aiohttp.ClientSession, make_article: Callable[..., Article]
) -> None:
    """Mastodon refuses a Create of an id it holds a Tombstone for (create.rb
    `tombstone_exists?`): the restored report is new posts; the retracted ids stay 410."""
    now = datetime.now(UTC)
    article = make_article(published_at=now - timedelta(minutes=1))
    await publish_report(running, article, now)
    _, _, page = await get(http, running.url("/ap/actors/banten/outbox?page=true"))
    (old_create,) = page["orderedItems"]
    async with running.db.begin() as conn:
        retracted = await retract_article(conn, article.id, now=now)
        assert retracted is not None
        await publish.on_article_change(
            conn, running.settings, retracted, previous=article, now=now
        )
    lead = article.paragraphs[0].replace("1.250 rumah", "1.300 rumah")
    corrected = replace(article, paragraphs=(lead, *article.paragraphs[1:]))
    await publish_report(running, corrected, now, restore=True)

    for gone_id in (old_create["object"]["id"], old_create["id"]):
        status, _, tombstone = await get(http, gone_id)
        assert status == 410 and tombstone["type"] == "Tombstone" and tombstone["id"] == gone_id
        assert "content" not in json.dumps(tombstone)
    status, _, outbox = await get(http, running.url("/ap/actors/banten/outbox"))
    assert outbox["totalItems"] == 1
    _, _, page = await get(http, outbox["first"])
    (create,) = page["orderedItems"]
    assert create["type"] == "Create" and create["object"]["id"] != old_create["object"]["id"]
    status, _, note = await get(http, create["object"]["id"])
    assert status == 200 and "1.300 rumah" in note["content"]
    status, _, fetched = await get(http, create["id"])
    assert status == 200 and fetched["object"]["id"] == note["id"]
    # The article page names a live post as its ActivityPub alternate.
    _, headers, _ = await get(http, note["url"], BROWSER)
    alternate = re.search(r'<([^>]+)>; rel="alternate"; type="application/activity\+json"',
                          headers["Link"])  # fmt: skip
    assert alternate is not None
    status, _, found = await get(http, alternate[1])
    assert status == 200 and found["type"] == "Note" and "1.300 rumah" in found["content"]


async def test_outbox_pages_newest_first_with_keyset_paging(
    running: Running, http: aiohttp.ClientSession, make_article: Callable[..., Article]
) -> None:
    now = datetime.now(UTC)
    for n in range(23):
        article = make_article(
            id=f"art{n:03d}", slug=f"laporan-{n}", title=f"Laporan nomor {n}",
            section="Banten", published_at=now - timedelta(minutes=60 - n),
        )  # fmt: skip
        await publish_report(running, article, now - timedelta(minutes=59 - n))
    _, _, outbox = await get(http, running.url("/ap/actors/banten/outbox"))
    assert outbox["totalItems"] == 23
    seen: list[str] = []
    url: str | None = outbox["first"]
    while url:
        _, _, page = await get(http, url)
        seen += [item["object"]["id"] for item in page["orderedItems"]]
        url = page.get("next")
    assert len(seen) == len(set(seen)) == 23
    titles = []
    for post_id in seen[:2]:
        _, _, obj = await get(http, post_id)
        titles.append(obj["content"])
    assert "Laporan nomor 22" in titles[0] and "Laporan nomor 21" in titles[1]


async def test_followers_count_public_list_private_and_empty_following(
    running: Running, http: aiohttp.ClientSession
) -> None:
    _, _, followers = await get(http, running.url("/ap/actors/utama/followers"))
    assert followers["type"] == "OrderedCollection" and followers["totalItems"] == 0
    assert "first" not in followers and "orderedItems" not in followers
    _, _, following = await get(http, running.url("/ap/actors/utama/following"))
    assert following["totalItems"] == 0 and following["orderedItems"] == []
    _, _, featured = await get(http, running.url("/ap/actors/utama/featured"))
    assert featured["type"] == "OrderedCollection" and featured["orderedItems"] == []
    status, _, _ = await get(http, running.url("/ap/actors/nobody"))
    assert status == 404


WARGA_SHOWS_REPLIES = """  - name: warga
    title: Suara Warga
    fediverse: {enabled: true, show_replies: true}
"""


async def reply_to_every_post(db: Any, now: datetime, content: Callable[[str], str]) -> None:
    """A stored reply by ani to each post, its HTML from content(channel name)."""
    from sqlalchemy import insert, select

    from siarkan.store.tables import interactions, posts

    async with db.begin() as conn:
        for actor, uri in (await conn.execute(select(posts.c.actor_name, posts.c.uri))).all():
            await conn.execute(
                insert(interactions).values(
                    kind="reply", object_uri=uri, actor_uri="https://m.example/users/ani",
                    activity_id=f"{uri}#reply", content=content(actor), created_at=now,
                )
            )  # fmt: skip


async def test_replies_are_public_only_where_the_channel_shows_them(
    make_settings: Callable[..., Any], db: Any, port: int, http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:  # fmt: skip
    from tests.federation.conftest import start

    settings = make_settings(channels_extra=WARGA_SHOWS_REPLIES)
    now = datetime.now(UTC)
    async with start(settings, db, port) as live:
        await publish_report(live, make_article(published_at=now - timedelta(minutes=1)), now)
        await reply_to_every_post(db, now, lambda actor: f"<p>Balasan untuk {actor}</p>")
        _, _, shown = await get(http, live.url("/@warga"), BROWSER)
        _, _, hidden = await get(http, live.url("/@prologmedia"), BROWSER)
    assert "Balasan untuk warga" in shown and "1 dibagikan" not in shown
    assert "Balasan untuk" not in hidden and "suka" not in hidden


async def test_replies_shown_on_a_profile_load_nothing_from_their_senders(
    make_settings: Callable[..., Any], db: Any, port: int, http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:  # fmt: skip
    """A reply's <img> would make every reader's browser call the sender's server."""
    from tests.federation.conftest import start

    settings = make_settings(channels_extra=WARGA_SHOWS_REPLIES)
    now = datetime.now(UTC)
    content = (
        '<h1>Judul besar</h1><p>Setuju! <img src="https://pelacak.example/p.gif" alt="">'
        '<a href="https://m.example/@ani/1">tautan</a></p>'
        "<table><tr><td>sel</td></tr></table><script>alert(1)</script>"
    )
    async with start(settings, db, port) as live:
        await publish_report(live, make_article(published_at=now - timedelta(minutes=1)), now)
        await reply_to_every_post(db, now, lambda actor: content)
        _, _, shown = await get(http, live.url("/@warga"), BROWSER)
    replies = shown.split('class="profile-replies"', 1)[1].split("</section>", 1)[0]
    assert "Setuju!" in replies and "Judul besar" in replies
    assert "pelacak.example" not in replies and "<img" not in replies
    assert "<h1" not in replies and "<table" not in replies and "alert(1)" not in replies
    assert 'rel="nofollow noopener noreferrer ugc"' in replies


async def fetch_headers(
    http: aiohttp.ClientSession, url: str, accept: str, if_none_match: str | None = None
) -> tuple[int, CIMultiDict[str], bytes]:
    headers = {"Accept": accept}
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    async with http.get(url, headers=headers, allow_redirects=False) as r:
        return r.status, CIMultiDict(r.headers), await r.read()


async def test_documents_revalidate_with_a_tag_per_media_type(
    running: Running, http: aiohttp.ClientSession, make_article: Callable[..., Article]
) -> None:
    now = datetime.now(UTC)
    await publish_report(running, make_article(published_at=now - timedelta(minutes=1)), now)
    _, _, outbox = await get(http, running.url("/ap/actors/banten/outbox?page=true"))
    (create,) = outbox["orderedItems"]
    actor = running.url("/ap/actors/utama")
    for url in (
        actor,
        f"{actor}/outbox",
        f"{actor}/outbox?page=true",
        f"{actor}/followers",
        f"{actor}/following",
        f"{actor}/featured",
        create["id"],
        create["object"]["id"],
    ):
        tags = {}
        for accept in (AP, LD):
            status, headers, _ = await fetch_headers(http, url, accept)
            assert status == 200, url
            assert headers["Cache-Control"].startswith("public, max-age="), url
            assert headers["X-Content-Type-Options"] == "nosniff", url
            tags[accept] = headers["ETag"]
            status, again, body = await fetch_headers(http, url, accept, tags[accept])
            assert status == 304 and body == b"", url
            assert again["ETag"] == tags[accept] and again["Vary"] == "Accept", url
            assert again["Cache-Control"] == headers["Cache-Control"], url
            assert again["Access-Control-Allow-Origin"] == "*", url
        # Two Content-Types, two representations: the JSON-LD form's tag does not stand for
        # the activity+json one (a cache would otherwise keep the wrong Content-Type).
        assert tags[AP] != tags[LD], url
        status, _, _ = await fetch_headers(http, url, AP, tags[LD])
        assert status == 200, url


async def test_a_document_tag_changes_with_the_document(
    running: Running, http: aiohttp.ClientSession, make_article: Callable[..., Article]
) -> None:
    now = datetime.now(UTC)
    first = make_article(published_at=now - timedelta(minutes=2))
    await publish_report(running, first, now)
    outbox_url = running.url("/ap/actors/utama/outbox?page=true")
    _, headers, _ = await fetch_headers(http, outbox_url, AP)
    before = headers["ETag"]
    _, _, page = await get(http, outbox_url)
    note_url = page["orderedItems"][0]["object"]["id"]
    _, headers, _ = await fetch_headers(http, note_url, AP)
    note_tag = headers["ETag"]

    second = make_article(
        id="lain-1", slug="laporan-lain", title="Laporan lain",
        canonical_url="https://prologmedia.example/lain", published_at=now - timedelta(minutes=1),
    )  # fmt: skip
    await publish_report(running, second, now)
    status, headers, _ = await fetch_headers(http, outbox_url, AP, before)
    assert status == 200 and headers["ETag"] != before

    async with running.db.begin() as conn:
        retracted = await retract_article(conn, first.id, now=now)
        assert retracted is not None
        await publish.on_article_change(conn, running.settings, retracted, previous=first, now=now)
    status, headers, _ = await fetch_headers(http, note_url, AP, note_tag)
    assert status == 410 and "ETag" not in headers
    status, headers, _ = await fetch_headers(http, note_url, BROWSER)
    assert status == 410 and headers["Vary"] == "Accept"  # the text 410 is for browsers only


async def test_profile_and_article_pages_revalidate_and_change_with_posts(
    running: Running, http: aiohttp.ClientSession, make_article: Callable[..., Article]
) -> None:
    now = datetime.now(UTC)
    article = make_article(published_at=now - timedelta(minutes=1))
    async with running.db.begin() as conn:
        stored = (await upsert_article(conn, article, now=now)).article
    profile = running.url("/@prologmedia")
    page = running.url(f"/artikel/{stored.slug}")
    tags = {}
    for url in (profile, page):
        status, headers, _ = await fetch_headers(http, url, BROWSER)
        assert status == 200 and headers["Cache-Control"] == "public, max-age=60", url
        tags[url] = headers["ETag"]
        status, headers, body = await fetch_headers(http, url, BROWSER, tags[url])
        assert status == 304 and body == b"" and headers["ETag"] == tags[url], url
    _, headers, _ = await fetch_headers(http, profile, BROWSER, tags[profile])
    assert headers["Vary"] == "Accept"  # the profile URL also redirects AP clients

    # Its posts go out: the profile lists them, the page links its post as its AP alternate.
    async with running.db.begin() as conn:
        await publish.on_article_change(conn, running.settings, stored, previous=None, now=now)
    for url in (profile, page):
        status, headers, body = await fetch_headers(http, url, BROWSER, tags[url])
        assert status == 200 and headers["ETag"] != tags[url], url
    assert 'rel="alternate"; type="application/activity+json"' in headers["Link"]


async def test_a_part_withdrawn_before_its_release_is_not_found_not_gone(
    db: Database,
    port: int,
    http: aiohttp.ClientSession,
    make_settings: Callable[..., Settings],
    make_article: Callable[..., Article],
) -> None:
    """A series part waiting for its time, then retracted with the report: it was never
    public, so its id answers 404 (as it did while scheduled), not 410 "was here"; the part
    that did go out keeps its Tombstone."""
    settings = make_settings(channels_extra=SERIES)
    # 20:30 in Jakarta: part 1 goes out now, parts 2 and 3 wait for the end of quiet hours.
    published = datetime(2026, 11, 28, 13, 30, tzinfo=UTC)
    article = make_article(published_at=published, updated_at=published)
    now = published + timedelta(seconds=5)
    await store(db, settings, article, now)
    out, waiting, *_ = await all_rows(db, posts, posts.c.actor_name == "seri", order=posts.c.part)
    assert (out["state"], waiting["state"]) == ("published", "scheduled")
    async with start(settings, db, port):
        status, _, _ = await get(http, waiting["uri"])
        assert status == 404
        async with db.begin() as conn:
            retracted = await retract_article(conn, article.id, now=now)
            assert retracted is not None
            await publish.on_article_change(conn, settings, retracted, previous=article, now=now)
        states = {
            r["uri"]: r["state"] for r in await all_rows(db, posts, posts.c.actor_name == "seri")
        }
        assert states[waiting["uri"]] == states[out["uri"]] == "deleted"
        for accept in (AP, BROWSER):
            status, _, body = await get(http, waiting["uri"], accept)
            assert status == 404 and "Tombstone" not in str(body), accept
        status, _, tombstone = await get(http, out["uri"])
        assert status == 410 and tombstone["type"] == "Tombstone"
