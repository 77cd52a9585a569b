"""Check a JSON value against a schema of the admin API's OpenAPI 3.1 document (JSON Schema
2020-12), with the `jsonschema` library: its `#/components/...` references resolve against the
document itself.

    schema_errors(value, schema, root=openapi_document) -> ["$.article.url: 'url' is a ...", ...]
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator


def schema_errors(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator({**schema, "components": root.get("components", {})})
    return sorted(f"{e.json_path}: {e.message}" for e in validator.iter_errors(value))
