"""Django models. Persistence only: rules live in engine/, use cases in services/."""

from tongban.store.models.bundles import Bundle, BundleItem
from tongban.store.models.cases import Case, Certificate, Counter, Event
from tongban.store.models.catalog import CalendarYear, Holiday, MatterVersion
from tongban.store.models.dispatch import DemandLine, DemandSet, DispatchAssignment, DispatchPlan
from tongban.store.models.followups import FollowupReport, Reminder
from tongban.store.models.messaging import Delivery, Outbox
from tongban.store.models.org import Membership, Org, Profile
from tongban.store.models.portal import (
    ApiToken,
    Draft,
    LoginAttempt,
    Rating,
    RevealLog,
    Upload,
)
from tongban.store.models.registry import (
    Driver,
    Enterprise,
    ImportJob,
    Person,
    Place,
    Rider,
    Vehicle,
    Volunteer,
)
from tongban.store.models.request_links import RequestLink, RequestToken
from tongban.store.models.requests import RoutingCorrection, RoutingRule

__all__ = [
    "RequestLink",
    "RequestToken",
    "RoutingCorrection",
    "RoutingRule",
    "Bundle",
    "BundleItem",
    "FollowupReport",
    "Reminder",
    "ApiToken",
    "Draft",
    "LoginAttempt",
    "RevealLog",
    "Rating",
    "Upload",
    "Org",
    "Membership",
    "Profile",
    "MatterVersion",
    "Holiday",
    "CalendarYear",
    "Case",
    "Event",
    "Certificate",
    "Counter",
    "Outbox",
    "Delivery",
    "Person",
    "Enterprise",
    "Vehicle",
    "Driver",
    "Rider",
    "Place",
    "Volunteer",
    "ImportJob",
    "DemandSet",
    "DemandLine",
    "DispatchPlan",
    "DispatchAssignment",
]
