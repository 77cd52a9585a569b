"""Our actors' RSA keys: made once, stored in `actors`, parsed once per process.

    app start | ensure_actors        (one row + RSA-2048 pair per fediverse channel, idempotent)
    signer    | load_signing_key     (row -> SigningKey(key_id, parsed private key))
    CLI       | rotate_key           (new pair; the caller federates Update(actor))

Private keys are never logged or rendered; only `publicKeyPem` leaves the database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan import urls
from siarkan.config import ChannelSettings, Settings
from siarkan.federation.sqlutil import insert_ignore
from siarkan.store.tables import actors


@dataclass(frozen=True, slots=True)
class SigningKey:
    key_id: str
    private_key: RSAPrivateKey

    def __repr__(self) -> str:  # never print key material by accident
        return f"SigningKey(key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class KeyPair:
    private_pem: str
    public_pem: str

    def __repr__(self) -> str:
        return "KeyPair(<redacted>)"


def generate_key_pair() -> KeyPair:
    """RSA-2048, e=65537: what Mastodon and Fedify expect of an actor's main key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return KeyPair(private_pem, public_pem)


@lru_cache(maxsize=64)
def parse_private_key(pem: str) -> RSAPrivateKey:
    """Cached by content, so a rotated key is simply a new entry.

    The key was made by `generate_key_pair` and read back from our own database, so the
    consistency check OpenSSL runs on load (a primality test: 30-60 ms per RSA-2048 key, once
    per key and process, charged to the first delivery or inbox action) buys nothing here.
    """
    key = serialization.load_pem_private_key(
        pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("an actor key must be RSA")
    return key


def fediverse_channels(settings: Settings) -> list[ChannelSettings]:
    return [c for c in settings.channels if c.fediverse.enabled and c.fediverse.username]


async def ensure_actors(conn: AsyncConnection, settings: Settings, now: datetime) -> list[str]:
    """Create missing actor rows (with a fresh key pair); returns the names created.

    INSERT ... ON CONFLICT DO NOTHING: nodes starting together never make two keys for one
    actor. A renamed username or base URL updates the row and keeps the key.
    """
    created: list[str] = []
    rows = {
        row.name: row
        for row in (
            await conn.execute(select(actors.c.name, actors.c.username, actors.c.key_id))
        ).all()
    }
    for channel in fediverse_channels(settings):
        username = channel.fediverse.username or channel.name
        key_id = urls.actor_key_id(settings, channel.name)
        existing = rows.get(channel.name)
        if existing is not None:
            if (existing.username, existing.key_id) != (username, key_id):
                await conn.execute(
                    update(actors)
                    .where(actors.c.name == channel.name)
                    .values(username=username, key_id=key_id)
                )
            continue
        # Key generation takes ~50-200 ms of CPU: keep the event loop serving meanwhile.
        pair = await asyncio.to_thread(generate_key_pair)
        result = await conn.execute(
            insert_ignore(conn, actors, ["name"]).values(
                name=channel.name,
                username=username,
                key_id=key_id,
                private_key_pem=pair.private_pem,
                public_key_pem=pair.public_pem,
                key_created_at=now,
                created_at=now,
            )
        )
        if result.rowcount:
            created.append(channel.name)
    return created


async def load_signing_key(conn: AsyncConnection, actor_name: str) -> SigningKey:
    """The key that signs as `actor_name`; KeyError if the actor has no row yet."""
    row = (
        await conn.execute(
            select(actors.c.key_id, actors.c.private_key_pem).where(actors.c.name == actor_name)
        )
    ).first()
    if row is None:
        raise KeyError(actor_name)
    return SigningKey(row.key_id, parse_private_key(row.private_key_pem))


async def rotate_key(conn: AsyncConnection, actor_name: str, now: datetime) -> None:
    """Replace the actor's key pair; followers learn the new one from Update(actor)."""
    pair = await asyncio.to_thread(generate_key_pair)
    result = await conn.execute(
        update(actors)
        .where(actors.c.name == actor_name)
        .values(
            private_key_pem=pair.private_pem, public_key_pem=pair.public_pem, key_created_at=now
        )
    )
    if not result.rowcount:
        raise KeyError(actor_name)
