"""ActivityStreams constants and small shared helpers (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# What we send as Accept when fetching remote objects (AP §3.2).
ACCEPT_AP = f"{ACTIVITY_JSON}, {LD_JSON_AS}"
JRD_JSON = "application/jrd+json"

# Extension terms Mastodon reads (docs.joinmastodon.org/spec/activitypub/#namespaces); inline so
# receivers never need to fetch a context document.
EXTENSIONS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "attributionDomains": {"@id": "toot:attributionDomains", "@type": "@id"},
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}
CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSIONS]


def as_time(when: datetime) -> str:
    """xsd:dateTime in UTC with a Z, second precision (what Mastodon emits and parses)."""
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def dumps(document: Any) -> str:
    """The bytes we send and store: compact, UTF-8 as is (Indonesian text stays readable)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def wants_activity_json(accept: str) -> bool:
    """Does an Accept header ask for ActivityStreams rather than HTML (AP §3.2)?

    Browsers send text/html first; Mastodon sends application/activity+json and Fedify sends
    application/activity+json or application/ld+json with the AS profile.
    """
    accept = accept.lower()
    if "application/activity+json" in accept:
        return True
    return "application/ld+json" in accept and "text/html" not in accept


def activity_media_type(accept: str) -> str:
    """The Content-Type to answer an ActivityStreams request with: the one it asked for.

    AP §3.2 names both; a client that asked only for the JSON-LD form with the AS profile
    gets that back, everyone else the shorter `application/activity+json`.
    """
    lowered = accept.lower()
    if "application/ld+json" in lowered and "application/activity+json" not in lowered:
        return LD_JSON_AS
    return ACTIVITY_JSON


def first_id(value: Any) -> str | None:
    """An AS2 reference may be a URI string, an object with an id, or a list of those."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        ident = value.get("id")
        return ident if isinstance(ident, str) else None
    if isinstance(value, list) and value:
        return first_id(value[0])
    return None


def id_list(value: Any) -> list[str]:
    """All URIs in an AS2 property that may be one reference or a list of them."""
    if isinstance(value, list):
        return [i for item in value if (i := first_id(item)) is not None]
    one = first_id(value)
    return [one] if one is not None else []
