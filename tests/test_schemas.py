"""Every input schema, core and plugins: strings are Text (no NUL, no lone surrogates)."""

import marshmallow as ma
from marshmallow import fields

from chat.schemas.base import (
    ErrorEnvelopeSchema,
    ErrorObjectSchema,
    OutSchema,
    Schema,
    Text,
)

OUTPUT_ONLY = (OutSchema, ErrorEnvelopeSchema, ErrorObjectSchema)


def _subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def _plain_strings(field: fields.Field, path: str) -> list[str]:
    if isinstance(field, fields.String) and not isinstance(field, Text):
        return [path]
    if isinstance(field, fields.List):
        return _plain_strings(field.inner, f"{path}[]")
    if isinstance(field, fields.Dict):
        inner = [f for f in (field.key_field, field.value_field) if f is not None]
        return [p for f in inner for p in _plain_strings(f, f"{path}{{}}")]
    return []


def test_input_schemas_use_text_for_every_string(app):
    """`app` has loaded every plugin, so their schemas are defined too."""
    inputs = [
        s
        for s in _subclasses(Schema)
        if not issubclass(s, OUTPUT_ONLY) and not s.__name__.endswith(("Out", "Ack"))
    ]
    assert len(inputs) >= 15
    plain = [
        path
        for schema in inputs
        for name, field in schema._declared_fields.items()
        if not field.dump_only
        for path in _plain_strings(field, f"{schema.__module__}.{schema.__name__}.{name}")
    ]
    assert plain == []


def test_text_refuses_nul_and_lone_surrogates():
    class Body(Schema):
        text = Text()

    for bad in ("a\x00b", "\udc00", "x\ud83d", "\ud800\udfff"[::-1]):
        try:
            Body().load({"text": bad})
        except ma.ValidationError as exc:
            assert "text" in exc.messages
        else:
            raise AssertionError(f"{bad!r} was accepted")
    assert Body().load({"text": "caf\u00e9 \U0001f600"}) == {"text": "caf\u00e9 \U0001f600"}
