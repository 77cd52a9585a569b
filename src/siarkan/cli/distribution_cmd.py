"""Delivery queue commands: deliveries, retry, hosts.

siarkan deliveries [--status S] [--limit N] [--json]   newest first
siarkan retry [ID ...] [--id N] [--all-dead] [--json] dead -> pending, due now (no id: all)
siarkan hosts [--json]                                 breaker / unavailable state per host
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from siarkan.cli.context import CliContext, positive_int
from siarkan.distribution import queue
from siarkan.distribution.breaker import state_label
from siarkan.distribution.worker import breaker_policy

STATUSES = ("pending", "retrying", "sent", "dead", "skipped", "failed")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    lst = sub.add_parser("deliveries", help="list queued and finished deliveries")
    lst.add_argument(
        "--status",
        choices=STATUSES,
        help="one state; 'failed' = tried and not sent (retrying or dead)",
    )
    lst.add_argument(
        "--limit", type=positive_int, default=50, help="at most this many (default 50)"
    )
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=run_deliveries)

    retry = sub.add_parser(
        "retry",
        help="send dead deliveries again (back to pending, due now)",
        description="Without ids, every dead delivery is queued again with a fresh try budget.",
    )
    retry.add_argument("positional_ids", type=int, nargs="*", metavar="ID")
    retry.add_argument("--id", type=int, action="append", dest="ids", metavar="N", default=[])
    retry.add_argument("--all-dead", action="store_true", help="every dead delivery (default)")
    retry.add_argument("--json", action="store_true")
    retry.set_defaults(handler=run_retry)

    hosts = sub.add_parser("hosts", help="per-host delivery health (circuit breaker)")
    hosts.add_argument("--json", action="store_true")
    hosts.set_defaults(handler=run_hosts)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def run_deliveries(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.database() as db, db.connect() as conn:
        rows = await queue.list_deliveries(conn, status=args.status, limit=args.limit)
    if args.json:
        out = [
            {
                "id": r["id"],
                "kind": r["kind"],
                "state": r["state"],
                "status": r["state"],  # the name `--status` filters on
                "target": r["target"],
                "host": r["host"],
                "activity_id": r["activity_id"],
                "subscription_id": r["subscription_id"],
                "attempts": r["attempts"],
                "lease_expiries": r["lease_expiries"],
                "due_at": _iso(r["due_at"]),
                "last_status": r["last_status"],
                "last_error": r["last_error"],
                "created_at": _iso(r["created_at"]),
                "finished_at": _iso(r["finished_at"]),
            }
            for r in rows
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    tz = ctx.settings.site.tz
    for r in rows:
        due = r["due_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        status = r["last_status"] if r["last_status"] is not None else "-"
        note = (r["last_error"] or "")[:40]
        print(
            f"{r['id']:>7}  {r['kind']:13} {r['state']:8} try {r['attempts']:<2} "
            f"due {due}  {status!s:>3}  {r['target'][:60]}  {note}"
        )
    if not rows:
        print("no deliveries", file=sys.stderr)
    return 0


async def run_retry(args: argparse.Namespace, ctx: CliContext) -> int:
    ids = [*args.positional_ids, *args.ids]
    if ids and args.all_dead:
        print("siarkan: give ids or --all-dead, not both", file=sys.stderr)
        return 2
    async with ctx.database() as db, db.begin() as conn:
        before = await queue.states_of(conn, ids) if ids else {}
        count = await queue.requeue_dead(conn, now=ctx.clock.now(), ids=ids or None)
    if args.json:
        print(json.dumps({"requeued": count, "ids": ids or None}))
    else:
        print(f"{count} dead deliver{'y' if count == 1 else 'ies'} queued again")
    # Each id that was not queued again, and why: unknown, or not dead.
    refused = [n for n in dict.fromkeys(ids) if before.get(n) != "dead"]
    for n in refused:
        state = before.get(n)
        why = "no such delivery" if state is None else f"it is {state}; only dead ones are retried"
        print(f"siarkan: delivery {n} not queued again: {why}", file=sys.stderr)
    return 1 if refused else 0


async def run_hosts(args: argparse.Namespace, ctx: CliContext) -> int:
    policy = breaker_policy(ctx.settings)
    now = ctx.clock.now()
    async with ctx.database() as db, db.connect() as conn:
        listed = await queue.list_hosts(conn)
    if args.json:
        out = [
            {
                "host": h.host,
                "state": state_label(h, now, policy),
                "consecutive_failures": h.consecutive_failures,
                "breaker_open_until": _iso(h.breaker_open_until),
                "failure_days": list(h.failure_days),
                "unavailable": h.unavailable,
                "last_success_at": _iso(h.last_success_at),
                "signature_scheme": h.signature_scheme,
                "waiting": waiting,
            }
            for h, waiting in listed
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    for h, waiting in listed:
        until = ""
        if h.breaker_open_until is not None and h.is_open(now):
            until = "held until " + h.breaker_open_until.isoformat(timespec="seconds")
        queued = sum(waiting.values())
        print(
            f"{h.host:40} {state_label(h, now, policy):11} fails {h.consecutive_failures:<3} "
            f"days {len(h.failure_days):<2} waiting {queued:<6} {h.signature_scheme or '':12} "
            f"{until}"
        )
    if not listed:
        print("no hosts yet", file=sys.stderr)
    return 0
