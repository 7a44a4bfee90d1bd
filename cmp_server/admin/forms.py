"""Flask-WTF forms of the console (each carries a CSRF token), and turning service errors
into messages next to the right fields."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Regexp,
)
from wtforms.validators import Optional as OptionalValue
from wtforms.widgets import CheckboxInput, ListWidget

from cmp_server.services.errors import ServiceError
from cmp_server.services.texts import TEXT_KEYS
from cmp_server.vocabulary import CONSENT_MODE_SIGNALS, LOOK_POSITIONS, ROLES, TRACKER_KINDS

LONG_TEXTS = {"description", "preferences_description", "gpc_notice", "blocked_content"}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def lines(text: str | None) -> list[str]:
    """A textarea's non-empty lines (also split on commas)."""
    return [p.strip() for line in (text or "").splitlines() for p in line.split(",") if p.strip()]


def flatten_messages(messages, path="") -> list[tuple[str, str]]:
    """marshmallow's nested messages as (path, message) pairs: categories.0.labels.en.title."""
    if isinstance(messages, dict):
        pairs = []
        for key, value in messages.items():
            pairs += flatten_messages(value, f"{path}.{key}" if path else str(key))
        return pairs
    if isinstance(messages, list | tuple):
        pairs = []
        for item in messages:
            pairs += flatten_messages(item, path)
        return pairs
    return [(path, str(messages))]


def apply_errors(form: FlaskForm, exc: ServiceError, field_map: dict | None = None) -> None:
    """Put a service error's field messages on the matching form fields, the rest on top."""
    field_map = field_map or {}
    placed = False
    for path, message in flatten_messages(exc.fields):
        name = field_map.get(path) or field_map.get(path.split(".")[0]) or path.split(".")[0]
        field = getattr(form, name, None) if name in form._fields else None
        if field is not None:
            field.errors = [*field.errors, message]
            placed = True
        else:
            form.form_errors.append(f"{path}: {message}" if path else message)
            placed = True
    if not placed:
        form.form_errors.append(exc.message)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST."""


class ActionForm(FlaskForm):
    """A button that changes something (delete, revoke): CSRF token only."""


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=12, max=1000, message="at least 12 characters")],
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="the passwords differ")],
    )


class SiteCreateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    origins = TextAreaField("Allowed origins (one per line)")


class SiteSettingsForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    origins = TextAreaField("Allowed origins (one per line)")
    languages = StringField("Languages (comma separated, e.g. en, fr)", validators=[DataRequired()])
    default_language = StringField("Default language", validators=[DataRequired()])
    privacy_policy_url = StringField(
        "Privacy policy URL", validators=[OptionalValue(), URL(require_tld=False)]
    )
    consent_lifetime_days = IntegerField(
        "Consent lifetime (days)", validators=[InputRequired(), NumberRange(1, 3650)]
    )
    regimes = TextAreaField(
        "Regime by region (one per line: default=opt_in, EEA=opt_in, US=opt_out)",
        validators=[DataRequired()],
    )
    # Checked against the tz database by the configuration schema; left empty: UTC.
    time_zone = StringField("Time zone of the console's dates", validators=[Length(max=64)])


def texts_form_class(language: str) -> type[FlaskForm]:
    """A form with one field per banner text; an empty field means the default text."""
    attrs = {}
    for key in TEXT_KEYS:
        label = key.replace("_", " ").capitalize()
        field = TextAreaField if key in LONG_TEXTS else StringField
        attrs[key] = field(label, validators=[Length(max=5000)])
    return type(f"TextsForm_{language}", (FlaskForm,), attrs)


def color_field(label: str) -> StringField:
    """A #rrggbb colour, with a message a person can act on."""
    return StringField(
        label,
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(),
            Regexp(r"#[0-9a-fA-F]{6}\Z", message="Write the colour as # and six hex digits."),
        ],
    )


class LookForm(FlaskForm):
    position = SelectField("Position", choices=list(LOOK_POSITIONS))
    background = color_field("Background")
    text = color_field("Text")
    link = color_field("Links and “Customize”")
    accept_background = color_field("“Accept all” background")
    accept_text = color_field("“Accept all” text")
    reject_background = color_field("“Refuse all” background")
    reject_text = color_field("“Refuse all” text")


def category_form_class(languages: list[str]) -> type[FlaskForm]:
    """Key, flags, Consent Mode signals, and a title and description per site language."""
    attrs = {
        "key": StringField("Key", validators=[DataRequired(), Length(max=64)]),
        "required": BooleanField("Strictly necessary (always on, cannot be refused)"),
        "honor_gpc": BooleanField("Turned off by a Global Privacy Control signal"),
        "consent_mode": MultiCheckboxField(
            "Google Consent Mode signals granted", choices=list(CONSENT_MODE_SIGNALS)
        ),
    }
    for lang in languages:
        attrs[f"title_{lang}"] = StringField(f"Title ({lang})", validators=[Length(max=200)])
        attrs[f"description_{lang}"] = TextAreaField(
            f"Description ({lang})", validators=[Length(max=5000)]
        )
    return type("CategoryForm", (FlaskForm,), attrs)


class TrackerForm(FlaskForm):
    """A tracker; `tracker_form_class` adds its purpose and duration per site language."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    provider = StringField("Provider", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=list(TRACKER_KINDS))
    cookies = TextAreaField("Cookie names or patterns (one per line; name* is a prefix)")
    domains = TextAreaField("Domains (one per line)")
    privacy_policy_url = StringField(
        "Provider's privacy policy URL", validators=[OptionalValue(), URL(require_tld=False)]
    )


def tracker_form_class(languages: list[str]) -> type[FlaskForm]:
    """TrackerForm with what the visitor reads of a tracker, its purpose and duration, in
    each of the site's languages (`purpose_fr`, `duration_fr`)."""
    attrs = {}
    for lang in languages:
        attrs[f"purpose_{lang}"] = TextAreaField(f"Purpose ({lang})", validators=[Length(max=2000)])
        attrs[f"duration_{lang}"] = StringField(
            f"Duration ({lang}; e.g. 13 months, session)", validators=[Length(max=100)]
        )
    return type("TrackerTextsForm", (TrackerForm,), attrs)


class JsonConfigForm(FlaskForm):
    document = TextAreaField("Configuration (JSON)", validators=[DataRequired()])


class PublishForm(FlaskForm):
    requires_reconsent = BooleanField("Ask every visitor again (re-consent)")


class RetentionForm(FlaskForm):
    retention_days = IntegerField(
        "Keep proofs for (days)", validators=[InputRequired(), NumberRange(1, 36500)]
    )
    legal_hold = BooleanField("Legal hold (suspend the retention purge)")


class UserCreateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    role = SelectField("Role", choices=list(ROLES))
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=12)])
    site_keys = StringField("Limit to sites (keys, comma separated; empty = all sites)")


class UserEditForm(FlaskForm):
    role = SelectField("Role", choices=list(ROLES))
    site_keys = StringField("Limit to sites (keys, comma separated; empty = all sites)")
    active = BooleanField("Active (may sign in)")
    new_password = PasswordField(
        "Set a new password (optional; signs them out and revokes their API tokens)",
        validators=[OptionalValue()],
    )


class TokenCreateForm(FlaskForm):
    name = StringField("What is it for?", validators=[Length(max=100)])
    expires_in_days = IntegerField(
        "Expires after (days)",
        default=90,
        validators=[OptionalValue(), NumberRange(min=1, max=365)],
    )
