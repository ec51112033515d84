"""The offline sync protocol, server side: idempotent push with per-record receipts, cursor pull.

Records are made on phones with a UUIDv7 id and a per-device sequence number.
`push()` stores each record once (the database's unique key on the id decides,
so two server processes given the same batch still store it once) and answers
a receipt per record: applied, duplicate, conflict or rejected (with a reason).
What a record *means* is not decided here: the caller passes one applier per
record kind, and the feeds a pull carries besides the device's own records.
Sync owns its tables (`sync.models`) and knows `crypto`, never `server`.
"""

from sync.devices import (
    BadDeviceKey,
    DeviceClock,
    DeviceError,
    DeviceMismatch,
    DeviceUnproved,
    check_request,
    device_id_of,
    prove,
    register,
    request_message,
)
from sync.models import Device, SyncRecord, sync_metadata
from sync.pull import Feed, Page, pull
from sync.push import Applier, Appliers, Bulk, Contended, DuplicateOf, Prepare, Quota, QuotaExceeded, Rejected, push
from sync.wire import (
    KINDS,
    PROTOCOL,
    RECORD_DOMAIN,
    SCHEMA,
    Attendance,
    Checkin,
    Checkout,
    Complaint,
    DeviceRef,
    DeviceRegister,
    DeviceRegistered,
    Envelope,
    PullResponse,
    PushRequest,
    PushResponse,
    Receipt,
    Record,
    Review,
    Session,
)

__all__ = [
    "BadDeviceKey", "DeviceClock", "DeviceError", "DeviceMismatch", "DeviceRef", "DeviceRegister", "DeviceRegistered", "DeviceUnproved",
    "check_request", "device_id_of", "prove", "register", "request_message",
    "KINDS", "PROTOCOL", "RECORD_DOMAIN", "SCHEMA", "Envelope", "Applier", "Appliers", "Attendance", "Bulk", "Contended", "Prepare", "Checkin", "Checkout", "Complaint", "Device", "DuplicateOf", "Feed", "Page",
    "PullResponse", "PushRequest", "PushResponse", "Quota", "QuotaExceeded", "Receipt", "Record", "Rejected", "Review",
    "Session", "SyncRecord", "pull", "push", "sync_metadata",
]
