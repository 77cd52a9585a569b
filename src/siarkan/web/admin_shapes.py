"""What the admin API answers: one pydantic model per JSON body, used twice.

    handler -> a model instance -> answer() / problem() -> the response body
    the models -> RESPONSE_MODELS -> web/openapi.py -> /api/openapi.json response schemas

Because the handlers build every body through these models, the schemas in the document
cannot drift from what is sent. Rules that keep the two equal:

- A field every body carries has no default (it is "required" in the schema); a field with a
  default is one that may be left out, and `body()` leaves it out when it was not given
  (`exclude_unset`). Give such a field only when it has a value.
- extra="forbid": the schemas say `additionalProperties: false`, and a key the model does not
  declare (a field added to article_to_dict, say) is an error, not a silent extra.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from siarkan.articles.model import Status
from siarkan.store.articles import Outcome

PROBLEM = "application/problem+json"
MAX_BATCH = 500  # articles in one POST
MAX_LIST = 200  # articles in one page of GET /api/articles

# article_to_dict writes datetime.isoformat(): RFC 3339 with an offset, a string to readers.
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def _no_null_defaults(schema: dict[str, Any]) -> None:
    """A field left out is absent, never null: "default": null would document a value that
    is never sent (and contradict the field's own type)."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_no_null_defaults)

    def body(self) -> dict[str, Any]:
        """The JSON-ready body: every field given, none left to a default."""
        return self.model_dump(mode="json", exclude_unset=True)


class FieldError(Shape):
    loc: str
    msg: str


class Problem(Shape):
    """An RFC 9457 problem document (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | SkipJsonSchema[None] = None


class ImageView(Shape):
    url: str
    alt: str
    caption: str
    credit: str
    media_type: str | None
    width: int | None
    height: int | None
    length: int | None


class RelatedLinkView(Shape):
    title: str
    url: str | None


class ArticleView(Shape):
    """article_to_dict(article) plus its public url: every stored field of one article."""

    id: str
    slug: str
    title: str
    paragraphs: list[str]
    body_html: str
    language: str
    subtitle: str | None
    dateline: str | None
    authors: list[str]
    section: str | None
    tags: list[str]
    canonical_url: str | None
    image: ImageView | None
    related: list[RelatedLinkView]
    published_at: IsoTime | None
    updated_at: IsoTime | None
    publish_at: IsoTime | None
    status: Status
    source: str
    content_hash: str
    lead: str
    url: str


class Stored(Shape):
    """One article upserted: 201 created, or 200 updated / unchanged."""

    outcome: Outcome
    article: ArticleView


class Withdrawn(Shape):
    """A post its CMS took down: retracted here, or absent (siarkan never had it)."""

    outcome: Literal["retracted", "absent"]
    reason: str
    article: ArticleView | SkipJsonSchema[None] = None


class Ignored(Shape):
    """A payload that is not a report (an attachment, a Ghost page)."""

    outcome: Literal["ignored"]
    reason: str


class Retracted(Shape):
    """DELETE /api/articles/{key}."""

    outcome: Literal["retracted"]
    article: ArticleView


class ArticlePage(Shape):
    items: list[ArticleView]
    limit: int
    offset: int


class BatchStored(Shape):
    index: int
    outcome: Outcome
    id: str
    slug: str


class BatchWithdrawn(Shape):
    index: int
    outcome: Literal["retracted", "absent"]
    reason: str
    id: str | SkipJsonSchema[None] = None
    slug: str | SkipJsonSchema[None] = None


class BatchIgnored(Shape):
    index: int
    outcome: Literal["ignored"]
    reason: str


class BatchRejected(Shape):
    index: int
    outcome: Literal["rejected"]
    errors: list[FieldError]


BatchItem = BatchStored | BatchWithdrawn | BatchIgnored | BatchRejected


class BatchCounts(Shape):
    """How many items of a batch ended each way (every outcome, zeros included)."""

    created: int
    updated: int
    unchanged: int
    rejected: int
    retracted: int
    absent: int
    ignored: int

    @classmethod
    def of(cls, results: list[BatchItem]) -> BatchCounts:
        return cls.model_validate(
            {name: sum(r.outcome == name for r in results) for name in cls.model_fields}
        )


class Batch(Shape):
    """A list pushed at once: 200 even with rejections, each item says how it went."""

    counts: BatchCounts
    results: list[BatchItem]


class Duplicate(Shape):
    """A Ghost webhook delivered again with the same signature: applied once already."""

    status: Literal["duplicate"]
    detail: str


# Every body the admin API and the CMS webhooks answer with (web/openapi.py documents them).
RESPONSE_MODELS: tuple[type[Shape], ...] = (
    Problem,
    ArticleView,
    Stored,
    Withdrawn,
    Ignored,
    Retracted,
    ArticlePage,
    Batch,
    Duplicate,
)
