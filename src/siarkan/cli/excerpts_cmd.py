"""`siarkan excerpts ARTICLE_ID`: preview the posts an article becomes on a channel.

    article id|slug | store.get_article | choose_channel (--channel, else the first that takes
        the article) | preview_channel (--mode/--max-chars/--max-parts override its excerpts)
        | federation.publish.excerpts_for (exactly what publishing posts)
        | human-readable cards, or --json

Exit status 1 when the article does not exist, 2 for an unknown channel or none configured.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from siarkan.articles.model import Article
from siarkan.channels import channels_for
from siarkan.cli.context import CliContext
from siarkan.config import ChannelSettings, ExcerptSettings, Settings
from siarkan.excerpts import Excerpt
from siarkan.federation.publish import excerpts_for
from siarkan.store.articles import get_article

MODES = ("summary", "thread", "series")


def _bounded(name: str) -> Any:
    """An argparse type enforcing the same bounds as the config field (model_copy won't)."""
    field = ExcerptSettings.model_fields[name]
    low = next(m.ge for m in field.metadata if hasattr(m, "ge"))
    high = next(m.le for m in field.metadata if hasattr(m, "le"))

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be between {low} and {high}")
        return value

    return parse


def register(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "excerpts",
        help="preview the fediverse posts an article becomes",
        description=(
            "Print the posts (summary, thread or series) an article becomes on a channel, "
            "exactly as they will be posted, with their length counted the way Mastodon counts."
        ),
    )
    parser.add_argument("article", metavar="ARTICLE_ID", help="article id or slug")
    parser.add_argument("--channel", help="channel name (default: the first that takes it)")
    parser.add_argument("--mode", choices=MODES, help="override the channel's excerpt mode")
    parser.add_argument("--max-chars", type=_bounded("max_chars"), help="override max_chars")
    parser.add_argument("--max-parts", type=_bounded("max_parts"), help="override max_parts")
    parser.add_argument("--json", action="store_true", help="print a JSON list of the posts")
    parser.set_defaults(handler=run)


def choose_channel(settings: Settings, article: Article, name: str | None) -> ChannelSettings:
    """The named channel (KeyError if unknown), else the first that takes the article."""
    if name is not None:
        return settings.channel(name)
    accepting = channels_for(settings, article)
    return accepting[0] if accepting else settings.channels[0]


def preview_channel(
    channel: ChannelSettings,
    *,
    mode: str | None = None,
    max_chars: int | None = None,
    max_parts: int | None = None,
) -> ChannelSettings:
    """The channel with its excerpt settings overridden for a preview (None keeps a setting)."""
    update = {
        key: value
        for key, value in (("mode", mode), ("max_chars", max_chars), ("max_parts", max_parts))
        if value is not None
    }
    if not update:
        return channel
    return channel.model_copy(update={"excerpts": channel.excerpts.overridden(**update)})


def excerpt_to_dict(part: Excerpt, max_chars: int) -> dict[str, Any]:
    return {
        "index": part.index,
        "total": part.total,
        "mode": part.mode,
        "length": part.length,
        "max_chars": max_chars,
        "text": part.text,
        "html": part.html,
        "body_text": part.body_text,
        "anchor": part.anchor,
        "link": part.link,
        "hashtags": list(part.hashtags),
        "language": part.language,
    }


def format_card(part: Excerpt, channel: ChannelSettings, max_chars: int) -> str:
    warning = channel.fediverse.content_warning
    # Mastodon counts a content warning into the limit; publishing shrinks the text for it.
    extra = f" + {len(warning)} content warning" if warning else ""
    head = (
        f"── {part.mode} {part.index + 1}/{part.total} · {part.length}{extra}/{max_chars}"
        f" characters · channel {channel.name} "
    )
    return f"{head.ljust(72, '─')}\n{part.text}\n"


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    settings = ctx.settings
    async with ctx.database() as db, db.connect() as conn:
        article = await get_article(conn, args.article)
    if article is None:
        print(f"siarkan: no article with id or slug {args.article!r}", file=sys.stderr)
        return 1
    if not settings.channels:
        print("siarkan: no channels are configured (add one under `channels:`)", file=sys.stderr)
        return 2
    try:
        channel = choose_channel(settings, article, args.channel)
    except KeyError:
        names = ", ".join(c.name for c in settings.channels)
        print(f"siarkan: no channel {args.channel!r} (channels: {names})", file=sys.stderr)
        return 2
    channel = preview_channel(
        channel, mode=args.mode, max_chars=args.max_chars, max_parts=args.max_parts
    )
    parts = excerpts_for(settings, channel, article)
    max_chars = channel.excerpts.max_chars
    if args.json:
        json.dump(
            [excerpt_to_dict(p, max_chars) for p in parts], sys.stdout, ensure_ascii=False, indent=2
        )
        sys.stdout.write("\n")
    else:
        print("\n".join(format_card(p, channel, max_chars) for p in parts), end="")
    return 0
