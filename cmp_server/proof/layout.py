"""The consent record's layout, defined once: every field, which part of the hash it is in.

Everything that lists a record's fields derives from `RECORD_FIELDS`: the hashed parts
(`PUBLIC_FIELDS`, `PERSONAL_FIELDS`, used by sealing), the verifier's columns and their named
indices (`VERIFY_COLUMNS`, `Col`), the export's field list (`EXPORT_FIELDS`, in this order,
a contract versioned by `schemas/export.py`) and the export schema's field types.

Parts:
  public     hashed into record_hash as they are
  personal   hashed into personal_digest with the record's salt; cleared by erasure
  chain      the chain itself: personal_digest and prev_hash are hashed, record_hash is the hash
  state      not hashed: erased_at and the salt (deleting the salt is what erasure does)
"""

from dataclasses import dataclass

PUBLIC, PERSONAL, CHAIN, STATE = "public", "personal", "chain", "state"


@dataclass(frozen=True)
class Field:
    """One field of a consent record. `kind` is its JSON type: int, text, bool, object, list
    or time (UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ`)."""

    name: str
    part: str
    kind: str
    nullable: bool = False
    description: str = ""


RECORD_FIELDS = (
    Field("site_key", PUBLIC, "text", description="the site's public key"),
    Field("position", PUBLIC, "int", description="place in the site's log, from 1"),
    Field("entry_type", PUBLIC, "text", description="consent, erasure or purge"),
    Field("consent_id", PERSONAL, "text", True, "UUID made in the browser"),
    Field("device_id", PERSONAL, "text", True, "pseudonymous UUID kept on the device"),
    Field("received_at", PUBLIC, "time", description="when the server received it"),
    Field("expires_at", PUBLIC, "time", description="when the decision lapses"),
    Field("revision", PUBLIC, "int", description="banner revision number shown"),
    Field("revision_hash", PUBLIC, "text", description="SHA-256 of that revision"),
    Field("action", PUBLIC, "text", description="accept_all, reject_all, custom, ..."),
    Field("choices", PUBLIC, "object", description="category key: granted (or entry details)"),
    Field("allowed_kinds", PUBLIC, "list", description="tracker kinds thereby allowed"),
    Field("regime", PUBLIC, "text", description="opt_in, opt_out or notice"),
    Field("gpc", PUBLIC, "bool", description="Global Privacy Control signal sent"),
    Field("language", PERSONAL, "text", True, "language the banner spoke"),
    Field("page_url", PERSONAL, "text", True, "page, without its query string"),
    Field("country", PERSONAL, "text", True, "country code from the IP"),
    Field("browser", PERSONAL, "text", True, "from the User-Agent"),
    Field("os", PERSONAL, "text", True, "from the User-Agent"),
    Field("device_type", PERSONAL, "text", True, "desktop, mobile, tablet, ..."),
    Field("ip_truncated", PERSONAL, "text", True, "IPv4 /24 or IPv6 /48"),
    Field("client_ts", PERSONAL, "time", True, "the browser's clock"),
    Field("erased_at", STATE, "time", True, "when its personal data was erased"),
    Field("salt", STATE, "text", True, "hex; null once erased"),
    Field("personal_digest", CHAIN, "text", description="SHA-256(salt || JCS(personal))"),
    Field("prev_hash", CHAIN, "text", description="the previous record's record_hash"),
    Field("record_hash", CHAIN, "text", description="SHA-256(JCS(public + chain fields))"),
)
BY_NAME = {f.name: f for f in RECORD_FIELDS}

EXPORT_FIELDS = tuple(f.name for f in RECORD_FIELDS)
PUBLIC_FIELDS = tuple(f.name for f in RECORD_FIELDS if f.part == PUBLIC)
PERSONAL_FIELDS = tuple(f.name for f in RECORD_FIELDS if f.part == PERSONAL)
# The object whose JCS is hashed into record_hash: the public fields and two chain fields.
HASHED_FIELDS = (*PUBLIC_FIELDS, "personal_digest", "prev_hash")
TIME_FIELDS = frozenset(f.name for f in RECORD_FIELDS if f.kind == "time")
JSON_FIELDS = frozenset(f.name for f in RECORD_FIELDS if f.kind in ("object", "list"))

# What the chain verifier reads of a record (site_key is the verifier's own, not per row):
# chain and state fields first, then the hashed public fields, then the personal ones.
VERIFY_COLUMNS = (
    "position",
    "entry_type",
    "prev_hash",
    "record_hash",
    "personal_digest",
    "salt",
    "erased_at",
    *(name for name in PUBLIC_FIELDS if name not in ("site_key", "position", "entry_type")),
    *PERSONAL_FIELDS,
)


class Col:
    """Named indices of a verifier row (a tuple in `VERIFY_COLUMNS` order)."""

    POSITION = VERIFY_COLUMNS.index("position")
    ENTRY_TYPE = VERIFY_COLUMNS.index("entry_type")
    PREV_HASH = VERIFY_COLUMNS.index("prev_hash")
    RECORD_HASH = VERIFY_COLUMNS.index("record_hash")
    PERSONAL_DIGEST = VERIFY_COLUMNS.index("personal_digest")
    SALT = VERIFY_COLUMNS.index("salt")
    ERASED_AT = VERIFY_COLUMNS.index("erased_at")
    REVISION = VERIFY_COLUMNS.index("revision")
    REVISION_HASH = VERIFY_COLUMNS.index("revision_hash")
    ACTION = VERIFY_COLUMNS.index("action")
    CHOICES = VERIFY_COLUMNS.index("choices")
    ALLOWED_KINDS = VERIFY_COLUMNS.index("allowed_kinds")
    REGIME = VERIFY_COLUMNS.index("regime")
    GPC = VERIFY_COLUMNS.index("gpc")
    RECEIVED_AT = VERIFY_COLUMNS.index("received_at")
    EXPIRES_AT = VERIFY_COLUMNS.index("expires_at")
    PERSONAL_START = VERIFY_COLUMNS.index(PERSONAL_FIELDS[0])
    # The personal fields, each by name (the template in templates.py names them).
    PERSONAL = {name: VERIFY_COLUMNS.index(name) for name in PERSONAL_FIELDS}
