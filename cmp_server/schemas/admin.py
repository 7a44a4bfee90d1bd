"""Schemas of the admin JSON API: query strings and bodies in, resources out.

Every input schema rejects unknown fields (marshmallow's default), so a typo in a query
parameter is a 400 naming it rather than a silently ignored filter.
"""

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate

from cmp_server.schemas.export import ExportRecordSchema
from cmp_server.schemas.text import Line
from cmp_server.services import tokens
from cmp_server.vocabulary import ROLES


class UtcDateTime(fields.DateTime):
    """A time that exists once in UTC (a zone-less one is UTC): year 1 at +14:00 does not,
    and would fail deep in a query instead of as a 400."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:
            raise ValidationError("out of range once converted to UTC") from None
        return moment


SITE_KEYS = fields.List(
    Line(validate=validate.Length(1, 32)),
    allow_none=True,
    metadata={"description": "the sites this account may see; null means every site"},
)


class PeriodQuerySchema(Schema):
    """The `since` and `until` days of a statistics query (default: the last 30 days)."""

    since = fields.Date(load_default=None, metadata={"description": "first day (inclusive)"})
    until = fields.Date(load_default=None, metadata={"description": "last day (inclusive)"})


class ConsentQuerySchema(Schema):
    """A search of consent records: by consent ID, device ID or period, one page at a time."""

    consent_id = fields.UUID(load_default=None)
    device_id = fields.UUID(load_default=None)
    since = UtcDateTime(load_default=None, metadata={"description": "received at or after"})
    until = UtcDateTime(load_default=None, metadata={"description": "received before"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class ExportQuerySchema(Schema):
    """An export of consent records: its format (csv, ndjson) and period."""

    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "ndjson"]))
    since = UtcDateTime(load_default=None)
    until = UtcDateTime(load_default=None)


class AuditQuerySchema(Schema):
    """A search of the audit log (actor, action, site, period), as a JSON page or CSV."""

    actor = Line(load_default=None, validate=validate.Length(max=320))
    action = Line(load_default=None, validate=validate.Length(max=64))
    site = Line(load_default=None, validate=validate.Length(max=32))
    since = UtcDateTime(load_default=None)
    until = UtcDateTime(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class PublishInSchema(Schema):
    """A publish request: whether visitors must decide again (null: only when required)."""

    requires_reconsent = fields.Boolean(
        load_default=None,
        allow_none=True,
        metadata={"description": "force re-consent; null lets the widening rules decide"},
    )


class RetentionSchema(Schema):
    """A site's proof retention in days and its legal hold."""

    retention_days = fields.Integer(strict=True, required=True, validate=validate.Range(1, 36500))
    legal_hold = fields.Boolean(load_default=False)


class RevisionSchema(Schema):
    """A published revision: number, hash, re-consent decision and who published it."""

    number = fields.Integer()
    config_hash = fields.String()
    requires_reconsent = fields.Boolean()
    reconsent_reasons = fields.String()
    published_at = fields.DateTime()
    published_by = fields.String(allow_none=True)


class ProblemSchema(Schema):
    """One compliance problem that blocks publishing, with the rule and its source."""

    code = fields.String()
    message = fields.String()
    source = fields.String()


class ChangeSchema(Schema):
    """One difference between the draft and the published revision."""

    path = fields.String()
    kind = fields.String(validate=validate.OneOf(["added", "removed", "changed"]))
    before = fields.String(allow_none=True)
    after = fields.String(allow_none=True)


class PublishPreviewSchema(Schema):
    """What a publish would do: the changes, re-consent reasons and blocking problems."""

    published_revision = fields.Integer(allow_none=True)
    next_revision = fields.Integer()
    requires_reconsent = fields.Boolean()
    reconsent_reasons = fields.List(fields.String())
    changes = fields.List(fields.Nested(ChangeSchema))
    problems = fields.List(fields.Nested(ProblemSchema))
    publishable = fields.Boolean()


class StatsSchema(Schema):
    """A site's consent figures for a period (the dashboard's numbers)."""

    since = fields.Date()
    until = fields.Date()
    total = fields.Integer()
    actions = fields.Dict(keys=fields.String(), values=fields.Integer())
    consent_rates = fields.Dict()
    breakdowns = fields.Dict()
    days = fields.List(fields.Dict())


class ConsentRecordOutSchema(ExportRecordSchema):
    """A record as the admin API lists it: the export's fields, less the site (it is in the
    URL) and the salt."""

    class Meta:
        exclude = ("site_key", "salt")


class ConsentPageSchema(Schema):
    """One page of consent records, and whether there is another."""

    page = fields.Integer()
    has_next = fields.Boolean()
    records = fields.List(fields.Nested(ConsentRecordOutSchema))


class AuditEventSchema(Schema):
    """One audit event: who did what to which site, when, through which channel."""

    at = fields.String()
    actor = fields.String()
    via = fields.String()
    action = fields.String()
    site_key = fields.String(allow_none=True)
    target = fields.String(allow_none=True)
    details = fields.Dict()
    ip_truncated = fields.String(allow_none=True)


class AuditPageSchema(Schema):
    """One page of audit events, and whether there is another."""

    page = fields.Integer()
    has_next = fields.Boolean()
    events = fields.List(fields.Nested(AuditEventSchema))


class UserSchema(Schema):
    """A staff account as the API shows it (never its password hash)."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    site_keys = SITE_KEYS
    active = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


class UserCreateSchema(Schema):
    """A new staff account: email, role, password and optional site limit."""

    email = Line(required=True, validate=validate.Length(3, 320))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = fields.String(required=True, load_only=True, validate=validate.Length(12, 1000))
    site_keys = fields.List(
        Line(validate=validate.Length(1, 32)), load_default=None, allow_none=True
    )


class UserUpdateSchema(Schema):
    """A change to a staff account: role, site limit, active flag or a new password."""

    role = fields.String(validate=validate.OneOf(ROLES))
    site_keys = fields.List(Line(validate=validate.Length(1, 32)), allow_none=True)
    active = fields.Boolean()
    password = fields.String(load_only=True, validate=validate.Length(12, 1000))


class TokenSchema(Schema):
    """An API token as listed: its prefix, owner and dates (never the secret)."""

    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    owner = fields.Function(lambda t: t.user.email)
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime()
    state = fields.Function(
        lambda t: tokens.state(t), metadata={"description": "active, revoked or expired"}
    )


class TokenCreateSchema(Schema):
    """A new API token's name and lifetime in days."""

    name = Line(load_default="", validate=validate.Length(0, 100))
    expires_in_days = fields.Integer(
        load_default=tokens.DEFAULT_LIFETIME_DAYS,
        strict=True,
        validate=validate.Range(1, tokens.MAX_LIFETIME_DAYS),
        metadata={"description": "the token stops working after this many days"},
    )


class TokenCreatedSchema(TokenSchema):
    """A token just created, with its secret: shown in this answer only."""

    token = fields.String(metadata={"description": "the secret, shown only in this answer"})
