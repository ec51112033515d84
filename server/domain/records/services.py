"""What each offline record means once it reaches the server (the appliers `sync.push` calls).

A review, a complaint or a scanned attendance carries the DP1 frame the device
scanned; the server checks its signatures at the frame's own time: signed proof
that the worker's phone was there. Printed cards are no such proof.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

import crypto
import sync
from server.auth import Actor, Role
from server.db.models import Account, Attendance, Complaint, Outlet, OutletDevice, Pass, Review, TrainingSession, Visit
from server.domain.records import visitcode
from server.errors import NotFound
from sync import Appliers, Contended, DuplicateOf, Rejected
from sync import wire as w
from sync.models import Device
from sync.push import in_threads

STEP, DAY = 30, 86400
LOCAL = ZoneInfo("Asia/Shanghai")
"""The default local time zone (settings: `DOORPASS_TIMEZONE`)."""
PROOF_OK = crypto.STATUS_RESULTS
"""Every check before the status held: the phone was there. Any status: it may have changed since the scan."""
EPOCH = date(1970, 1, 1)


def _insert(session: AsyncSession):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


@dataclass(frozen=True)
class Freshness:
    """When a scanned frame counts as proof: its record made while it was shown, received within `lag_days`."""

    now: int
    lag_days: int

    def check(self, step: int, at: int) -> None:
        """Refuse a frame from the server's future, a record not made while its frame was shown, or one too late."""
        if crypto.step_window(step, self.now) is crypto.Result.FUTURE:
            raise Rejected("扫描的二维码时间晚于服务器时间（手机时钟不对？）",
                           "The scanned code is from later than the server's time (is the phone's clock wrong?)")
        if crypto.step_window(step, at) is not None:
            raise Rejected("记录时间与扫描的二维码时间不符，须在扫描时当场记录",
                           "The record's time does not match the scanned code's time; it must be made when the code is scanned")
        if self.now - step * STEP > self.lag_days * DAY:
            raise Rejected(f"扫描后超过 {self.lag_days} 天才送达，不能再作为凭证",
                           f"Received more than {self.lag_days} days after the code was scanned; it is no longer proof")


async def proof(lists: tuple[crypto.TrustList, crypto.StatusList], frame: str, at: int, fresh: Freshness) -> crypto.Parsed:
    """The parsed live frame, once it is fresh (`Freshness`) and its issuer and device signatures hold at its own time."""
    return check_proof(lists, frame, at, fresh)


def check_proof(lists: tuple[crypto.TrustList, crypto.StatusList], frame: str, at: int, fresh: Freshness) -> crypto.Parsed:
    """`proof`, as a plain function (CPU work: a worker thread runs it for a whole batch, see `make_appliers`)."""
    trust, status = lists
    try:
        parsed = crypto.parse_qr(frame)
    except crypto.CryptoError as e:
        raise Rejected("扫描的二维码无法识别", "The scanned code cannot be read") from e
    if parsed.kind != "live" or parsed.step is None:
        raise Rejected("纸质证卡不能作为上门凭证，请扫描手机上的实时二维码", "A printed card is no proof of a visit; scan the live code")
    fresh.check(parsed.step, at)
    verdict = crypto.verify(frame, parsed.step * STEP + STEP - 1, trust, status)  # the end of its step
    if verdict.result not in PROOF_OK:
        raise Rejected(f"扫描的二维码未通过核验（{verdict.result}）", f"The scanned code did not verify ({verdict.result})")
    return parsed


def visit_key(parsed: crypto.Parsed) -> str:
    """One key per shown code: issuer, pass and time step, not the QR text.

    Two texts of one frame (MessagePack allows wider integer encodings) are one verification, so they
    get one review, not two.
    """
    return hashlib.sha256(f"dp1-visit:{parsed.cred.kid}:{parsed.cred.serial}:{parsed.step}".encode()).hexdigest()


ALREADY_RECORDED = ("这次上门已经登记过", "This visit is already recorded")
NOT_THE_PASS_PHONE = ("签到和签退须在这张证绑定的服务员手机上记录", "Check-in and check-out must be recorded on the phone this pass is bound to")
NOT_OUTLET_PHONE = ("这台手机没有登录这个服务网点的工作人员账号", "This phone is not signed in to a staff account of this outlet")
NO_OUTLET = ("找不到这个服务网点", "No such outlet")
SESSION_EXISTS = ("这个培训场次已经建立过了", "This training session already exists")
NO_SESSION_YET = ("找不到这个培训场次（须先送达场次记录）", "No such training session (its session record must arrive first)")
BAD_DAY = ("日期不对", "Invalid date")
ONE_OF_TWO = ("签到需要扫描证件或输入学员编号（二选一）", "Attendance needs a scanned pass or a trainee number (one of them)")
NOT_THAT_DAY = ("扫描的二维码不是培训当天的", "The scanned code is not from the day of the training session")
NO_PASS = ("找不到这张已激活的上门服务证", "No activated pass with this number")
REVOKED = ("这张上门服务证已被吊销（或手机已解绑），吊销后不能再签到签退",
           "This pass was revoked (or its phone unbound): no check-in or check-out after that")
NO_CHECKIN = ("找不到这次上门的签到记录（须先送达签到）", "No check-in for this visit (it must arrive first)")
OTHER_SERIAL = ("签退的证号与签到不一致", "The check-out pass number differs from the check-in")
BEFORE_CHECKIN = ("签退时间早于签到时间", "Check-out is before check-in")
CHECKED_OUT = ("这次上门已经签退过了", "This visit is already checked out")
OWN_PHONE = ("不能在服务员自己的手机上评价或投诉自己的上门服务证", "A worker's own phone cannot review or complain about her pass")
NOT_THIS_PHONES_CODE = ("这次上门的上门码不是这台手机出示的", "This visit's code was not shown by this phone")

VISIT_LOCK = 0x44505656  # "DPVV": the first key of a visit's advisory lock on PostgreSQL (the second: hashtext(visit id))
TRAINING_LOCK = 0x44505654  # "DPVT": the same for a training session (its id)
LOCK_KEYS = text(
    "SELECT count(pg_advisory_xact_lock(k, hashtext(v)))"
    " FROM unnest(CAST(:ks AS integer[]), CAST(:ids AS varchar[])) WITH ORDINALITY AS t(k, v, o)"
)
"""Lock the visits and training sessions a batch names, in the order given (sorted: two batches never wait on each
other in a cycle), held to the commit."""


def _frames(recs: list) -> list[tuple[str, int]]:
    """The (frame, record time) of every record in the batch that carries a scanned frame as proof."""
    return [(r.frame, r.at) for r in recs if isinstance(r, (w.Review, w.Complaint, w.Attendance)) and r.frame is not None]


def _locks(recs: list) -> list[tuple[int, str]]:
    """What a batch must hold on PostgreSQL while it is checked and written, sorted: the visits whose check-in and
    household records meet (a check-in, a review or complaint naming a visit), and the training sessions it opens or
    marks attendance in (two outlet phones marking the same trainees)."""
    keys = {(VISIT_LOCK, r.visit_id) for r in recs if isinstance(r, (w.Checkin, w.Review, w.Complaint)) and r.visit_id is not None}
    keys |= {(TRAINING_LOCK, r.session_id) for r in recs if isinstance(r, (w.Session, w.Attendance))}
    return sorted(keys)


async def bound_outlet(session: AsyncSession, device_id: str) -> int | None:
    """The outlet a phone is tied to (docs/devices.md), while the account that tied it is active outlet staff of it."""
    row = (
        await session.execute(
            select(OutletDevice.outlet_id)
            .join(Account, Account.id == OutletDevice.account_id)
            .where(OutletDevice.device_id == device_id, Account.disabled.is_(False), Account.role == Role.OUTLET_STAFF.value,
                   Account.outlet_id == OutletDevice.outlet_id)
        )
    ).first()
    return None if row is None else row[0]


def local_day(t: int, tz: tzinfo) -> date:
    """The calendar day of Unix time `t` where the service runs (a visit's day, a training session's day)."""
    return datetime.fromtimestamp(t, tz).date()


def _bound_of(row: tuple[bytes | None, str, int] | None) -> tuple[str, int | None] | None:
    """A pass's (device_pub, state, updated_at) as `bound` answers it: the device id of its key and when it was
    revoked (None: not revoked); None: no such pass, or not activated."""
    if row is None or row[0] is None:
        return None
    return sync.device_id_of(row[0]), row[2] if row[1] == "revoked" else None  # a revoked pass changes no more


def _own_pass(found: tuple[str, int | None] | None, device_id: str, at: int) -> None:
    """A check-in or check-out is recorded on the phone its pass is bound to, before any revocation."""
    if found is None:
        raise Rejected(*NO_PASS)
    owner, revoked_at = found
    if owner != device_id:
        raise Rejected(*NOT_THE_PASS_PHONE)
    if revoked_at is not None and at >= revoked_at:  # made before the revocation (offline), it still counts
        raise Rejected(*REVOKED)


def _visit_code(r: w.Checkin, now: int, lag_days: int) -> visitcode.VisitCode:
    """The household's visit code a check-in carries, once it is this visit's and this pass's and on time."""
    code = visitcode.parse(r.visit_code)
    if code is None:
        raise Rejected("住户的上门码无法识别（请住户重新核验后出示新的上门码）",
                       "The household's visit code cannot be read (ask the household to verify again and show the new code)")
    if code.visit_id != r.visit_id or code.serial != r.serial:
        raise Rejected("住户的上门码不是这次上门、这张证的", "The household's visit code is for another visit or pass")
    if code.at > now + visitcode.SKEW:
        raise Rejected("上门码的时间晚于服务器时间（手机时钟不对？）", "The visit code is from later than the server's time (is a phone's clock wrong?)")
    if not code.at - visitcode.SKEW <= r.at <= code.at + visitcode.WINDOW:
        raise Rejected(f"签到须在住户核验后 {visitcode.WINDOW // 60} 分钟内完成",
                       f"Check-in must be made within {visitcode.WINDOW // 60} minutes of the household's verification")
    if now - code.at > lag_days * DAY:
        raise Rejected(f"签到在 {lag_days} 天后才送达，不能再作为凭证",
                       f"The check-in arrived more than {lag_days} days after the visit; it is no longer proof")
    return code


def _check_out(visit: tuple[int, int | None, int | None] | None, r: w.Checkout) -> None:
    """A check-out of the visit (serial, started_at, ended_at) as stored: after its check-in, of its pass, once."""
    serial, started_at, ended_at = visit or (None, None, None)
    if started_at is None:  # one outbox sends in order: the check-in is always ahead of its check-out
        raise Rejected(*NO_CHECKIN)
    if serial != r.serial:
        raise Rejected(*OTHER_SERIAL)
    if r.at < started_at:
        raise Rejected(*BEFORE_CHECKIN)
    if ended_at is not None:
        raise Rejected(*CHECKED_OUT)


def _photo(r: w.Complaint) -> bytes | None:
    """A complaint's photo, decoded (at most 512 KB)."""
    if not r.photo:
        return None
    try:
        photo = base64.b64decode(r.photo, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Rejected("投诉照片无法读取", "The complaint photo cannot be read") from e
    if len(photo) > 512 * 1024:
        raise Rejected("投诉照片超过 512 KB", "The complaint photo is over 512 KB")
    return photo


def _already(model: type[Review] | type[Complaint]) -> tuple[str, str]:
    what = ("评价", "reviewed") if model is Review else ("投诉", "complained about")
    return f"这台手机已经{what[0]}过这次上门了", f"This phone has already {what[1]} this visit"


VisitRow = tuple[str, str, int, int | None, bytes | None]
"""What a household record needs of a stored visit: id, household pseudonym, serial, code time, code signature."""


def _confirms(v: VisitRow | None, serial: int, pub: bytes | None) -> bool:
    """Whether a household record about pass `serial`, from the device of key `pub`, confirms the checked-in visit `v`
    (its device made the visit code); raises when the visit was checked in with another device's code (None: no
    check-in yet)."""
    vid, pseudonym, v_serial, code_at, code_sig = v or ("", "", 0, None, None)
    if code_sig is None:
        return False
    if v_serial != serial or not visitcode.VisitCode(vid, pseudonym, v_serial, code_at or 0, code_sig).signed_by(pub):
        raise Rejected(*NOT_THIS_PHONES_CODE)
    return True


VISIT_ROW = (Visit.id, Visit.household_pseudonym, Visit.serial, Visit.code_at, Visit.code_sig)


def _visit_row(r: w.Checkin, code: visitcode.VisitCode, device_id: str, tz: tzinfo) -> dict:
    """The visit a check-in opens (no household confirmed it yet, not checked out)."""
    return {"id": r.visit_id, "serial": r.serial, "device_id": device_id, "household_pseudonym": code.pseudonym,
            "code_at": code.at, "code_sig": code.sig, "household_device": None, "service": r.service,
            "day": local_day(r.at, tz), "place": r.place, "lat": r.lat, "lon": r.lon, "started_at": r.at, "ended_at": None}


def _household_row(r: w.Review | w.Complaint, cred: crypto.Credential, digest: str, device_id: str, confirmed: bool,
                   photo: bytes | None) -> dict:
    """The review or complaint row a household record stores."""
    row = {"id": r.id, "serial": cred.serial, "frame_digest": digest, "device_id": device_id, "confirmed": confirmed,
           "visit_id": r.visit_id, "at": r.at}
    if isinstance(r, w.Review):
        return {**row, "stars": r.stars, "tags": ",".join(r.tags), "comment": r.comment}
    return {**row, "agency_id": cred.agency_id, "category": r.category, "text": r.text, "photo": photo}


def make_appliers(
    lists: tuple[crypto.TrustList, crypto.StatusList], *, offline_lag_days: int, tz: tzinfo = LOCAL
) -> Appliers:
    """One applier per record kind, for one batch; each stores its record or raises Rejected / DuplicateOf.

    A frame used as proof must be fresh (`Freshness`): a record carrying it reaches the server within
    `offline_lag_days` of the frame's time.
    """
    pass_devices: dict[int, tuple[str, int | None] | None] = {}
    outlets: dict[str, int | None] = {}
    pubs: dict[str, bytes | None] = {}
    proofs: dict[tuple[str, int, int], crypto.Parsed | Rejected] = {}
    """(frame, record time, now): the frame's proof, or why it is none."""

    def proofs_of(now: int, frames: list[tuple[str, int]]) -> list[crypto.Parsed | Rejected]:
        """Each (frame, record time)'s proof at `now`, or why it is none (CPU work: run in worker threads)."""
        fresh = Freshness(now, offline_lag_days)
        out: list[crypto.Parsed | Rejected] = []
        for frame, at in frames:
            try:
                out.append(check_proof(lists, frame, at, fresh))
            except Rejected as e:
                out.append(e)
        return out

    async def prepare(session: AsyncSession, recs: list, device_id: str, now: int) -> None:
        """Before the batch is claimed: check every scanned frame's signatures in worker threads, a few side by side
        for a big batch (`sync.push.in_threads`; the event loop keeps answering), and on PostgreSQL lock the visits
        whose check-in and household records meet, so a review and the check-in it confirms, pushed by two processes
        at once, never miss each other (docs/devices.md), and the training sessions the batch writes to (`_locks`)."""
        frames = list(dict.fromkeys((frame, at) for frame, at in _frames(recs) if (frame, at, now) not in proofs))
        if frames:
            found = await in_threads(partial(proofs_of, now), frames)
            proofs.update(((frame, at, now), result) for (frame, at), result in zip(frames, found, strict=True))
        locks = _locks(recs)
        if locks and session.get_bind().dialect.name == "postgresql":
            await session.execute(LOCK_KEYS, {"ks": [k for k, _ in locks], "ids": [v for _, v in locks]})

    async def frame_proof(frame: str, at: int, now: int) -> crypto.Parsed:
        found = proofs.get((frame, at, now))
        if found is None:
            found = proofs[(frame, at, now)] = proofs_of(now, [(frame, at)])[0]
        if isinstance(found, Rejected):
            raise found
        return found

    async def bound(session: AsyncSession, serial: int) -> tuple[str, int | None] | None:
        """The device id of the key the pass is bound to, and when the pass was revoked (None: not revoked); None: no
        such pass, or not activated."""
        if serial not in pass_devices:
            row = (await session.execute(select(Pass.device_pub, Pass.state, Pass.updated_at).where(Pass.serial == serial))).first()
            pass_devices[serial] = _bound_of(None if row is None else (row[0], row[1], row[2]))
        return pass_devices[serial]

    async def bound_all(session: AsyncSession, serials: set[int]) -> None:
        """`bound` for several passes in one look-up (what a bulk applier reads before it checks its run)."""
        missing = serials - pass_devices.keys()
        if missing:
            rows = {serial: (pub, state, at) for serial, pub, state, at in await session.execute(
                select(Pass.serial, Pass.device_pub, Pass.state, Pass.updated_at).where(Pass.serial.in_(missing)))}
            pass_devices.update((serial, _bound_of(rows.get(serial))) for serial in missing)

    async def pass_device(session: AsyncSession, serial: int) -> str | None:
        found = await bound(session, serial)
        return None if found is None else found[0]

    async def pub_of(session: AsyncSession, device_id: str) -> bytes | None:
        if device_id not in pubs:
            pubs[device_id] = (await session.execute(select(Device.pub).where(Device.id == device_id))).scalar_one_or_none()
        return pubs[device_id]

    async def pubs_all(session: AsyncSession, device_ids: set[str]) -> None:
        """`pub_of` for several devices in one look-up."""
        missing = device_ids - pubs.keys()
        if missing:
            rows = {did: pub for did, pub in await session.execute(select(Device.id, Device.pub).where(Device.id.in_(missing)))}
            pubs.update((device_id, rows.get(device_id)) for device_id in missing)

    async def outlet_of(session: AsyncSession, device_id: str) -> int | None:
        """The outlet this phone is tied to by an active outlet staff account of that outlet (docs/devices.md)."""
        if device_id not in outlets:
            outlets[device_id] = await bound_outlet(session, device_id)
        return outlets[device_id]

    async def checkin(session: AsyncSession, r: w.Checkin, device_id: str, now: int) -> None:
        _own_pass(await bound(session, r.serial), device_id, r.at)
        code = _visit_code(r, now, offline_lag_days)
        # Inserted, never upserted: the visit's key decides who stores it; a second check-in of the visit is refused.
        added = await session.execute(
            _insert(session)(Visit).values(_visit_row(r, code, device_id, tz)).on_conflict_do_nothing(index_elements=["id"])
            .returning(Visit.id)
        )
        if added.first() is None:
            raise Rejected(*ALREADY_RECORDED)
        # The household's review or complaint may have come first: confirm the visit now if its device made the code.
        models: tuple[type[Review] | type[Complaint], ...] = (Review, Complaint)
        for model in models:
            rows: list[Review | Complaint] = list((await session.execute(select(model).where(model.visit_id == r.visit_id))).scalars())  # type: ignore[arg-type]
            for row in rows:
                if row.serial == r.serial and code.signed_by(await pub_of(session, row.device_id)):
                    row.confirmed = True
                    await session.execute(update(Visit).where(Visit.id == r.visit_id).values(household_device=row.device_id))

    async def checkout(session: AsyncSession, r: w.Checkout, device_id: str, now: int) -> None:
        _own_pass(await bound(session, r.serial), device_id, r.at)
        v = await session.get(Visit, r.visit_id)
        _check_out(None if v is None else (v.serial, v.started_at, v.ended_at), r)
        assert v is not None
        v.ended_at = r.at

    async def not_own_pass(session: AsyncSession, cred: crypto.Credential, device_id: str) -> None:
        """A household record is never made on the worker's own phone (the frame's device, or the pass's bound one)."""
        if sync.device_id_of(cred.device_pub) == device_id or await pass_device(session, cred.serial) == device_id:
            raise Rejected(*OWN_PHONE)

    async def about_visit(session: AsyncSession, model: type[Review] | type[Complaint], r: w.Review | w.Complaint,
                          device_id: str, now: int) -> tuple[crypto.Parsed, str, bool]:
        """The checks a review and a complaint share: fresh proof, not the worker's own phone, one per (visit, device),
        and whether this device made the visit code the worker checked in with (a confirmed visit)."""
        parsed = await frame_proof(r.frame, r.at, now)
        cred, digest = parsed.cred, visit_key(parsed)
        await not_own_pass(session, cred, device_id)
        same = (model.frame_digest == digest) if r.visit_id is None else ((model.frame_digest == digest) | (model.visit_id == r.visit_id))
        if (await session.execute(select(model.id).where(same, model.device_id == device_id).limit(1))).first() is not None:
            raise Rejected(*_already(model))
        confirmed = False
        if r.visit_id is not None:
            row = (await session.execute(select(*VISIT_ROW).where(Visit.id == r.visit_id))).first()
            v: VisitRow | None = None if row is None else (row[0], row[1], row[2], row[3], row[4])
            confirmed = _confirms(v, cred.serial, await pub_of(session, device_id))
            if confirmed:
                await session.execute(update(Visit).where(Visit.id == r.visit_id).values(household_device=device_id))
        return parsed, digest, confirmed

    async def review(session: AsyncSession, r: w.Review, device_id: str, now: int) -> None:
        parsed, digest, confirmed = await about_visit(session, Review, r, device_id, now)
        session.add(Review(**_household_row(r, parsed.cred, digest, device_id, confirmed, None)))
        await session.flush()

    async def complaint(session: AsyncSession, r: w.Complaint, device_id: str, now: int) -> None:
        photo = _photo(r)
        parsed, digest, confirmed = await about_visit(session, Complaint, r, device_id, now)
        session.add(Complaint(**_household_row(r, parsed.cred, digest, device_id, confirmed, photo)))
        await session.flush()

    async def session_open(session: AsyncSession, r: w.Session, device_id: str, now: int) -> None:
        if await session.get(Outlet, r.outlet_id) is None:
            raise Rejected(*NO_OUTLET)
        if await outlet_of(session, device_id) != r.outlet_id:
            raise Rejected(*NOT_OUTLET_PHONE)
        try:
            day = date.fromisoformat(r.day)
        except ValueError as e:
            raise Rejected(*BAD_DAY) from e
        opened = await session.execute(
            _insert(session)(TrainingSession)
            .values(id=r.session_id, outlet_id=r.outlet_id, course=r.course, day=day, device_id=device_id)
            .on_conflict_do_nothing(index_elements=["id"]).returning(TrainingSession.id)
        )
        if opened.first() is None:
            raise Rejected(*SESSION_EXISTS)

    async def attendance(session: AsyncSession, r: w.Attendance, device_id: str, now: int) -> None:
        if (r.frame is None) == (r.trainee_number is None):
            raise Rejected(*ONE_OF_TWO)
        ts = await session.get(TrainingSession, r.session_id)
        if ts is None:  # the outlet phone sends the session before its attendance (one outbox, in order)
            raise Rejected(*NO_SESSION_YET)
        if await outlet_of(session, device_id) != ts.outlet_id:
            raise Rejected(*NOT_OUTLET_PHONE)
        serial, name = None, ""
        if r.frame is not None:
            parsed = await frame_proof(r.frame, r.at, now)
            if local_day(parsed.step * STEP, tz) != ts.day:  # type: ignore[operator]  # a live frame has a step
                raise Rejected(*NOT_THAT_DAY)
            cred = parsed.cred
            serial, name, trainee = cred.serial, cred.name, f"pass:{cred.serial}"
        else:
            trainee = f"no:{r.trainee_number}"
        # One statement: the (session, trainee) key decides; a second scan of the same trainee points to the first.
        added = await session.execute(
            _insert(session)(Attendance)
            .values(id=r.id, session_id=r.session_id, trainee=trainee, serial=serial, name=name, at=r.at)
            .on_conflict_do_nothing(index_elements=["session_id", "trainee"]).returning(Attendance.id)
        )
        if added.first() is None:
            existing = (
                await session.execute(select(Attendance.id).where(Attendance.session_id == r.session_id, Attendance.trainee == trainee))
            ).scalar_one()
            raise DuplicateOf(existing)

    async def training(session: AsyncSession, recs: list, device_id: str, now: int) -> list[Rejected | DuplicateOf | None]:
        """A run of session and attendance records in a few statements: what `session_open` and `attendance` check, one
        record after another as they would (a session opened earlier in the run is there for the attendance after it),
        against three look-ups made once; then one INSERT per kind. Rows another transaction stored meanwhile:
        `Contended` (push redoes the run one record at a time)."""
        outlet = await outlet_of(session, device_id)
        asked_outlets = {r.outlet_id for r in recs if isinstance(r, w.Session)}
        outlet_ids = set((await session.execute(select(Outlet.id).where(Outlet.id.in_(asked_outlets)))).scalars()) \
            if asked_outlets else set()
        sessions: dict[str, tuple[int, date]] = {
            sid: (oid, day) for sid, oid, day in await session.execute(
                select(TrainingSession.id, TrainingSession.outlet_id, TrainingSession.day)
                .where(TrainingSession.id.in_({r.session_id for r in recs})))
        }
        attended = {r.session_id for r in recs if isinstance(r, w.Attendance)}
        taken: dict[tuple[str, str], str] = {
            (sid, trainee): aid for aid, sid, trainee in await session.execute(
                select(Attendance.id, Attendance.session_id, Attendance.trainee).where(Attendance.session_id.in_(attended)))
        } if attended else {}
        new_sessions: list[dict] = []
        new_attendance: list[dict] = []
        out: list[Rejected | DuplicateOf | None] = []
        for r in recs:
            try:
                if isinstance(r, w.Session):
                    if r.outlet_id not in outlet_ids:
                        raise Rejected(*NO_OUTLET)
                    if outlet != r.outlet_id:
                        raise Rejected(*NOT_OUTLET_PHONE)
                    try:
                        day = date.fromisoformat(r.day)
                    except ValueError as e:
                        raise Rejected(*BAD_DAY) from e
                    if r.session_id in sessions:
                        raise Rejected(*SESSION_EXISTS)
                    sessions[r.session_id] = (r.outlet_id, day)
                    new_sessions.append({"id": r.session_id, "outlet_id": r.outlet_id, "course": r.course, "day": day,
                                         "device_id": device_id})
                else:
                    if (r.frame is None) == (r.trainee_number is None):
                        raise Rejected(*ONE_OF_TWO)
                    if r.session_id not in sessions:
                        raise Rejected(*NO_SESSION_YET)
                    ts_outlet, ts_day = sessions[r.session_id]
                    if outlet != ts_outlet:
                        raise Rejected(*NOT_OUTLET_PHONE)
                    serial, name = None, ""
                    if r.frame is not None:
                        parsed = await frame_proof(r.frame, r.at, now)
                        if local_day(parsed.step * STEP, tz) != ts_day:  # type: ignore[operator]  # a live frame has a step
                            raise Rejected(*NOT_THAT_DAY)
                        serial, name, trainee = parsed.cred.serial, parsed.cred.name, f"pass:{parsed.cred.serial}"
                    else:
                        trainee = f"no:{r.trainee_number}"
                    first = taken.setdefault((r.session_id, trainee), r.id)
                    if first != r.id:
                        raise DuplicateOf(first)
                    new_attendance.append({"id": r.id, "session_id": r.session_id, "trainee": trainee, "serial": serial,
                                           "name": name, "at": r.at})
                out.append(None)
            except (Rejected, DuplicateOf) as e:
                out.append(e)
        await _insert_all(session, TrainingSession, ["id"], new_sessions)  # in batch order, as one by one would
        await _insert_all(session, Attendance, ["session_id", "trainee"], new_attendance)
        return out

    async def visits(session: AsyncSession, recs: list, device_id: str, now: int) -> list[Rejected | DuplicateOf | None]:
        """A run of check-ins and check-outs (a worker's morning) in a few statements: what `checkin` and `checkout`
        check, one record after another as they would (a check-out finds the check-in earlier in the run), against
        look-ups made once (the passes, the visits named, the household records waiting for a check-in and their
        devices' keys); then one INSERT of the new visits and one UPDATE per kind of change. Core statements only: no
        ORM object is loaded that a later applier could find stale. A visit another transaction stored meanwhile:
        `Contended` (push redoes the run one record at a time)."""
        await bound_all(session, {r.serial for r in recs})
        stored: dict[str, tuple[int, int | None, int | None]] = {
            vid: (serial, started, ended) for vid, serial, started, ended in await session.execute(
                select(Visit.id, Visit.serial, Visit.started_at, Visit.ended_at).where(Visit.id.in_({r.visit_id for r in recs})))
        }
        entering = {r.visit_id for r in recs if isinstance(r, w.Checkin)} - stored.keys()
        waiting: list[tuple[type[Review] | type[Complaint], str, str | None, int, str]] = []
        """(model, id, visit, serial, device) of the household records naming a visit checked in by this run: reviews
        first, then complaints, as `checkin` reads them."""
        if entering:
            models: tuple[type[Review] | type[Complaint], ...] = (Review, Complaint)
            for model in models:
                waiting += [(model, rid, vid, serial, household) for rid, vid, serial, household in await session.execute(
                    select(model.id, model.visit_id, model.serial, model.device_id).where(model.visit_id.in_(entering)))]
            await pubs_all(session, {household for *_, household in waiting})
        new: dict[str, dict] = {}  # visit id → its row, in batch order
        ended: dict[str, int] = {}  # a visit stored before this run → its check-out time
        confirm: dict[type[Review] | type[Complaint], list[str]] = {Review: [], Complaint: []}
        out: list[Rejected | DuplicateOf | None] = []
        for r in recs:
            try:
                _own_pass(pass_devices[r.serial], device_id, r.at)
                if isinstance(r, w.Checkin):
                    code = _visit_code(r, now, offline_lag_days)
                    if r.visit_id in stored:
                        raise Rejected(*ALREADY_RECORDED)
                    row = _visit_row(r, code, device_id, tz)
                    for model, rid, vid, serial, household in waiting:
                        if vid == r.visit_id and serial == r.serial and code.signed_by(pubs[household]):
                            confirm[model].append(rid)
                            row["household_device"] = household
                    new[r.visit_id], stored[r.visit_id] = row, (r.serial, r.at, None)
                else:
                    _check_out(stored.get(r.visit_id), r)
                    serial, started, _ = stored[r.visit_id]
                    stored[r.visit_id] = (serial, started, r.at)
                    if r.visit_id in new:
                        new[r.visit_id]["ended_at"] = r.at
                    else:
                        ended[r.visit_id] = r.at
                out.append(None)
            except Rejected as e:
                out.append(e)
        await _insert_all(session, Visit, ["id"], list(new.values()))
        for model, ids in confirm.items():
            if ids:
                await session.execute(update(model).where(model.id.in_(ids)).values(confirmed=True).execution_options(
                    synchronize_session=False))
        if ended:
            conn = await session.connection()
            await conn.execute(CHECK_OUT, [{"vid": vid, "end": at} for vid, at in ended.items()])
        return out

    async def household(session: AsyncSession, recs: list, device_id: str, now: int) -> list[Rejected | DuplicateOf | None]:
        """A run of reviews and complaints (a household's phone) in a few statements: what `review` and `complaint`
        check, one record after another as they would (a second review of a visit earlier in the run is refused),
        against look-ups made once (the passes the frames name, the visits named, what this phone already reviewed
        or complained about); then one INSERT per kind and one UPDATE of the visits this phone confirms."""
        found = [proofs.get((r.frame, r.at, now)) for r in recs]
        parsed_ok = [p for p in found if isinstance(p, crypto.Parsed)]
        await bound_all(session, {p.cred.serial for p in parsed_ok})
        digests = {visit_key(p) for p in parsed_ok}
        named = {r.visit_id for r in recs if r.visit_id is not None}
        mine = await pub_of(session, device_id)
        known: dict[str, VisitRow] = {
            vid: (vid, pseudonym, serial, code_at, code_sig) for vid, pseudonym, serial, code_at, code_sig
            in await session.execute(select(*VISIT_ROW).where(Visit.id.in_(named)))
        } if named else {}
        models: tuple[type[Review] | type[Complaint], ...] = (Review, Complaint)
        seen: dict[type[Review] | type[Complaint], tuple[set[str], set[str]]] = {}
        """model → (the visit keys, the visit ids) this phone has reviewed / complained about."""
        for model in models:
            rows = [(digest, vid) for digest, vid in await session.execute(select(model.frame_digest, model.visit_id).where(
                model.device_id == device_id, model.frame_digest.in_(digests) | model.visit_id.in_(named)))]
            seen[model] = ({digest for digest, _ in rows}, {vid for _, vid in rows if vid is not None})
        new: dict[type[Review] | type[Complaint], list[dict]] = {Review: [], Complaint: []}
        confirmed_visits: set[str] = set()
        out: list[Rejected | DuplicateOf | None] = []
        for r in recs:
            try:
                model = Review if isinstance(r, w.Review) else Complaint
                photo = _photo(r) if isinstance(r, w.Complaint) else None
                parsed = await frame_proof(r.frame, r.at, now)
                cred, digest = parsed.cred, visit_key(parsed)
                await not_own_pass(session, cred, device_id)
                reviewed, visited = seen[model]
                if digest in reviewed or (r.visit_id is not None and r.visit_id in visited):
                    raise Rejected(*_already(model))
                confirmed = r.visit_id is not None and _confirms(known.get(r.visit_id), cred.serial, mine)
                reviewed.add(digest)
                if r.visit_id is not None:
                    visited.add(r.visit_id)
                if confirmed:
                    confirmed_visits.add(r.visit_id)
                new[model].append(_household_row(r, cred, digest, device_id, confirmed, photo))
                out.append(None)
            except Rejected as e:
                out.append(e)
        for model in models:
            await _insert_all(session, model, ["id"], new[model])
        if confirmed_visits:
            await session.execute(update(Visit).where(Visit.id.in_(confirmed_visits)).values(household_device=device_id)
                                  .execution_options(synchronize_session=False))
        return out

    return Appliers({"checkin": checkin, "checkout": checkout, "review": review, "complaint": complaint,
                     "session": session_open, "attendance": attendance},
                    prepare=prepare, bulks=((TRAINING_KINDS, training), (VISIT_KINDS, visits), (HOUSEHOLD_KINDS, household)))


TRAINING_KINDS = frozenset({"session", "attendance"})
VISIT_KINDS = frozenset({"checkin", "checkout"})
HOUSEHOLD_KINDS = frozenset({"review", "complaint"})
"""The bulk groups (`sync.Appliers`): an outlet phone's training records, a worker phone's visits, a household's
records. A run of one group applies in a few statements; the batch is cut where the group changes."""

VISITS = Visit.__table__
CHECK_OUT = update(VISITS).where(VISITS.c.id == bindparam("vid")).values(ended_at=bindparam("end"))  # type: ignore[arg-type]  # a mapped Table
"""Check-outs of stored visits: one statement, sent as one executemany."""


async def _insert_all(session: AsyncSession, model: type[TrainingSession] | type[Attendance] | type[Visit] | type[Review] | type[Complaint],
                      key: list[str], rows: list[dict]) -> None:
    """Insert `rows` in one statement (sent as one executemany); any row whose `key` is already taken: `Contended`."""
    if not rows:
        return
    conn = await session.connection()
    stored = await conn.execute(
        _insert(session)(model).on_conflict_do_nothing(index_elements=key).returning(model.id), rows
    )
    if len(stored.all()) != len(rows):
        raise Contended(model.__tablename__)


NO_SESSION = ("找不到这个培训场次", "No such training session")


async def attendance_csv(actor: Actor, session_id: str) -> str:
    """Attendance of one training session as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese)."""
    session = actor.session
    ts = await session.get(TrainingSession, session_id)
    if ts is None:
        raise NotFound(*NO_SESSION)
    actor.outlet_scope(ts.outlet_id, what=NO_SESSION)
    rows = (await session.execute(select(Attendance).where(Attendance.session_id == session_id).order_by(Attendance.at))).scalars()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    # One thing per column: a typed trainee number, or the pass number and the name a scanned pass carried.
    writer.writerow(["课程 course", "日期 day", "学员编号 trainee number", "证号 pass", "姓名 name", "签到时间 at (UTC)"])
    for a in rows:
        number, serial = _trainee(a)
        writer.writerow([_cell(ts.course), ts.day.isoformat(), _cell(number), serial, _cell(a.name), _ts(a.at)])
    return out.getvalue()


def _trainee(a: Attendance) -> tuple[str, str]:
    """The trainee number (typed, `no:<number>`) and the pass number (scanned, `pass:<serial>`) of an attendance."""
    how, _, value = a.trainee.partition(":")
    if how == "no":
        return value, ""
    return "", str(a.serial) if a.serial is not None else (value if how == "pass" else "")


def _cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: one that could start a formula (= + - @, tab, CR) gets a leading '."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _ts(t: int) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


async def list_complaints(actor: Actor, *, agency_id: int | None, serial: int | None) -> list[dict]:
    """The regulator reads every agency's complaints (or one's); an agency only its own."""
    session = actor.session
    if actor.principal.role is not Role.REGULATOR:
        if agency_id is not None and agency_id != actor.principal.agency_id:
            raise NotFound("找不到这家家政企业", "No such agency")
        agency_id = actor.principal.agency_id
    stmt = select(Complaint).order_by(Complaint.at.desc()).limit(500)
    if agency_id is not None:
        stmt = stmt.where(Complaint.agency_id == agency_id)
    if serial is not None:
        stmt = stmt.where(Complaint.serial == serial)
    return [
        {"id": c.id, "serial": c.serial, "agency_id": c.agency_id, "category": c.category, "text": c.text,
         "has_photo": c.photo is not None, "at": c.at}
        for c in (await session.execute(stmt)).scalars()
    ]


async def list_reviews(actor: Actor, serial: int) -> list[dict]:
    """Reviews of a pass the actor may see."""
    session = actor.session
    p = await session.get(Pass, serial)
    if p is None:
        raise NotFound("找不到这张上门服务证", "No such pass")
    actor.agency_scope(p.agency_id, what=("找不到这张上门服务证", "No such pass"))
    rows = (await session.execute(select(Review).where(Review.serial == serial).order_by(Review.at.desc()).limit(500))).scalars()
    return [{"id": r.id, "stars": r.stars, "tags": [t for t in r.tags.split(",") if t], "comment": r.comment, "at": r.at} for r in rows]
