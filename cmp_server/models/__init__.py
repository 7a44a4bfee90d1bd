"""The database models; import them from here."""

from cmp_server.models.consent import ConsentRecord, ConsentTally, LogHead
from cmp_server.models.device import DeviceSecret
from cmp_server.models.proof import Checkpoint, PurgeStatement, SigningKey, WitnessCosignature
from cmp_server.models.revision import Revision
from cmp_server.models.scan import Scan
from cmp_server.models.screenshot import RevisionScreenshot, ScreenshotRun
from cmp_server.models.site import Category, Site, Tracker
from cmp_server.models.staff import ApiToken, AuditEvent, StaffSession, User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Category",
    "Checkpoint",
    "ConsentRecord",
    "ConsentTally",
    "DeviceSecret",
    "LogHead",
    "PurgeStatement",
    "Revision",
    "RevisionScreenshot",
    "Scan",
    "ScreenshotRun",
    "Site",
    "SigningKey",
    "StaffSession",
    "Tracker",
    "User",
    "WitnessCosignature",
]
