"""The database models; import them from here."""

from cmp_server.models.consent import ConsentRecord, ConsentTally, LogHead
from cmp_server.models.proof import Checkpoint, SigningKey
from cmp_server.models.revision import Revision
from cmp_server.models.site import Category, Site, Tracker
from cmp_server.models.staff import ApiToken, AuditEvent, User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Category",
    "Checkpoint",
    "ConsentRecord",
    "ConsentTally",
    "LogHead",
    "Revision",
    "Site",
    "SigningKey",
    "Tracker",
    "User",
]
