"""Profile and directory request bodies and queries."""

import re
from datetime import UTC, datetime, timedelta

import emoji as emoji_db
import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from chat.schemas.auth import UserOut
from chat.schemas.base import ObjectIdField, OutSchema, Schema, StrictBoolean, Text
from chat.schemas.rooms import INVISIBLE

MAX_IDS = 100
STATUS_LONGEST = timedelta(days=365)
SHORTCODE = re.compile(r"^:[a-z0-9_+-]{1,32}:$")
DISPLAY_NAME = [
    validate.Length(min=1, max=64),
    validate.Regexp(
        f"^ *[^ {INVISIBLE}][^{INVISIBLE}]*$",
        error="Cannot be blank or contain control or invisible characters.",
    ),
]


def _one_emoji(value: str) -> None:
    if value and not (SHORTCODE.match(value) or emoji_db.is_emoji(value)):
        raise ma.ValidationError("Not one emoji.")


class StatusIn(Schema):
    text = Text(load_default="", validate=validate.Length(max=140))
    emoji = Text(
        load_default="",
        validate=[
            validate.Length(max=64),
            # the shape for the document (a :shortcode: or non-ASCII); _one_emoji the set
            validate.Regexp(
                r"^(|:[a-z0-9_+-]{1,32}:|[#*0-9]?[^\x00-\x7f]+)$", error="Not one emoji."
            ),
            _one_emoji,
        ],
    )
    expires_at = fields.AwareDateTime(
        data_key="expiresAt",
        load_default=None,
        default_timezone=UTC,
        metadata={"description": "When the status ends by itself (within a year)."},
    )

    @ma.validates("expires_at")
    def _future(self, value, **kwargs):
        now = datetime.now(UTC)
        if value is not None and not now < value <= now + STATUS_LONGEST:
            raise ma.ValidationError("Must be in the future, within a year.")


class UserSettingsIn(Schema):
    read_receipts = StrictBoolean(data_key="readReceipts")


class ProfileIn(Schema):
    display_name = Text(data_key="displayName", validate=DISPLAY_NAME)
    status = fields.Nested(StatusIn, allow_none=True, metadata={"description": "null clears it"})
    settings = fields.Nested(UserSettingsIn)


class UserIdsQuery(Schema):
    ids = DelimitedList(
        ObjectIdField(), required=True, validate=validate.Length(min=1, max=MAX_IDS)
    )


class UserSearchQuery(Schema):
    q = Text(required=True, validate=validate.Length(min=1, max=64))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class UserListOut(OutSchema):
    users = fields.List(fields.Nested(UserOut), required=True)
