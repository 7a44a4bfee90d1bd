"""The database models; import them from here."""

from cmp_server.models.consent import ConsentRecord, ConsentTally, LogHead
from cmp_server.models.revision import Revision
from cmp_server.models.site import Category, Site, Tracker
from cmp_server.models.staff import ApiToken, AuditEvent, User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Category",
    "ConsentRecord",
    "ConsentTally",
    "LogHead",
    "Revision",
    "Site",
    "Tracker",
    "User",
]
