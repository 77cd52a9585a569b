"""Federation commands: followers (list, approve, reject) and keys (rotate).

    siarkan followers list [--actor NAME] [--state STATE] [--json]
    siarkan followers approve|reject --actor NAME FOLLOWER_URI
    siarkan keys rotate --actor NAME

Approving, rejecting and rotating only write rows (Accept/Reject/Update activities and their
deliveries); a running `siarkan serve` (worker role) sends them.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy import select, update

from siarkan import urls
from siarkan.cli.context import CliContext
from siarkan.federation.activitystreams import minimal_follow, render_update_actor
from siarkan.federation.actors import ActorRecord, render_actor
from siarkan.federation.audience import ACCEPTED, PENDING, REJECTED, follower_targets
from siarkan.federation.handlers import send_follow_answer
from siarkan.federation.keys import ensure_actors, fediverse_channels, rotate_key
from siarkan.federation.outgoing import emit, new_token
from siarkan.store.tables import actors, followers


def register(sub: argparse._SubParsersAction[Any]) -> None:
    fol = sub.add_parser("followers", help="fediverse followers of our accounts")
    fol_sub = fol.add_subparsers(dest="followers_command", required=True, metavar="ACTION")
    lst = fol_sub.add_parser("list", help="followers, newest first")
    lst.add_argument("--actor", help="channel name (default: every fediverse channel)")
    lst.add_argument("--state", choices=["accepted", "pending", "rejected", "blocked"])
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=run_followers_list)
    for action, text in (("approve", "accept a held follow request"), ("reject", "refuse one")):
        cmd = fol_sub.add_parser(action, help=text)
        cmd.add_argument("--actor", required=True, help="channel name")
        cmd.add_argument("follower", help="the follower's actor URI (see `followers list`)")
        cmd.set_defaults(handler=run_followers_decide, accept=action == "approve")

    keys = sub.add_parser("keys", help="our accounts' signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rot = keys_sub.add_parser("rotate", help="new key pair; followers get Update(actor)")
    rot.add_argument("--actor", required=True, help="channel name")
    rot.set_defaults(handler=run_keys_rotate)


def _check_actor(ctx: CliContext, args: argparse.Namespace) -> bool:
    """args.actor names a fediverse channel, by channel name or by the account's username as
    followers see it (`prologmedia`, `@prologmedia`, `@prologmedia@host`); set to the name."""
    channels = fediverse_channels(ctx.settings)
    username = args.actor.lstrip("@").split("@", 1)[0].lower()
    for channel in channels:
        if args.actor == channel.name or (channel.fediverse.username or "").lower() == username:
            args.actor = channel.name
            return True
    known = ", ".join(f"{c.name} (@{c.fediverse.username})" for c in channels) or "none"
    print(f"siarkan: {args.actor!r} is not a fediverse channel (fediverse channels: {known})",
          file=sys.stderr)  # fmt: skip
    return False


async def run_followers_list(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.actor and not _check_actor(ctx, args):
        return 2
    query = select(followers).order_by(followers.c.created_at.desc(), followers.c.id.desc())
    if args.actor:
        query = query.where(followers.c.actor_name == args.actor)
    if args.state:
        query = query.where(followers.c.state == args.state)
    async with ctx.database() as db, db.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    if args.json:
        print(json.dumps(
            [
                {
                    "actor": row["actor_name"],
                    "follower": row["follower_uri"],
                    "state": row["state"],
                    "inbox": row["inbox"],
                    "shared_inbox": row["shared_inbox"],
                    "since": row["created_at"].isoformat(),
                }
                for row in rows
            ],
            ensure_ascii=False,
            indent=2,
        ))  # fmt: skip
        return 0
    tz = ctx.settings.site.tz
    for row in rows:
        since = row["created_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M")
        print(f"{row['actor_name']:12}  {row['state']:8}  {since}  {row['follower_uri']}")
    if not rows:
        print("no followers yet", file=sys.stderr)
    return 0


async def run_followers_decide(args: argparse.Namespace, ctx: CliContext) -> int:
    if not _check_actor(ctx, args):
        return 2
    settings, now = ctx.settings, ctx.clock.now()
    async with ctx.database() as db, db.begin() as conn:
        row = (
            (
                await conn.execute(
                    select(followers).where(
                        followers.c.actor_name == args.actor,
                        followers.c.follower_uri == args.follower,
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            print(f"siarkan: {args.follower} does not follow {args.actor}", file=sys.stderr)
            return 1
        if row["state"] != PENDING:
            print(f"siarkan: that follow is {row['state']}, not pending", file=sys.stderr)
            return 1
        state = ACCEPTED if args.accept else REJECTED
        await conn.execute(
            update(followers).where(followers.c.id == row["id"]).values(state=state, updated_at=now)
        )
        if row["follow_activity_id"]:
            follow = minimal_follow(
                row["follow_activity_id"], row["follower_uri"], urls.actor_url(settings, args.actor)
            )
            await send_follow_answer(
                conn, settings, args.actor, follow, row["inbox"], now, accept=args.accept
            )
    print(f"{args.follower}: {state}")
    return 0


async def run_keys_rotate(args: argparse.Namespace, ctx: CliContext) -> int:
    if not _check_actor(ctx, args):
        return 2
    settings, now = ctx.settings, ctx.clock.now()
    channel = settings.channel(args.actor)
    async with ctx.database() as db, db.begin() as conn:
        await ensure_actors(conn, settings, now)
        await rotate_key(conn, args.actor, now)
        row = (await conn.execute(select(actors).where(actors.c.name == args.actor))).one()
        record = ActorRecord(row.name, row.username, row.key_id, row.public_key_pem, row.created_at)
        document = render_update_actor(
            urls.activity_uri(settings, new_token(now)),
            render_actor(settings, channel, record),
            urls.actor_followers_url(settings, args.actor),
            now,
        )
        targets = await follower_targets(conn, args.actor, settings.federation.blocked_domains)
        await emit(
            conn,
            actor_name=args.actor,
            document=document,
            targets=targets,
            now=now,
            object_uri=document["object"]["id"],
        )
    print(f"{args.actor}: new key {record.key_id}; Update queued for {len(targets)} inbox(es)")
    return 0
