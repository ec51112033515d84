"""Online verification: the DP1 checks with the TOTP row, plus what a household needs to see."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

import crypto
from crypto import Keyring
from server.auth import Actor
from server.db.models import Agency, Pass
from server.domain.lists.services import current, opened_lists
from server.domain.passes.services import totp_secret
from server.domain.registry.services import training_in_date
from server.domain.verify import schemas as s
from server.domain.verify.journal import Entry, Journal
from server.domain.verify.texts import RESULT_TEXT, WRONG_CODE_TEXT
from server.schemas import SERVICE_LABELS, mask_to_services

EPOCH = date(1970, 1, 1)


class ListCache:
    """Opened trust and status lists, kept until either list's etag changes."""

    def __init__(self) -> None:
        self.key: tuple[str, str] | None = None
        self.value: tuple[crypto.TrustList, crypto.StatusList] | None = None

    async def get(self, session: AsyncSession) -> tuple[crypto.TrustList, crypto.StatusList]:
        key = ((await current(session, "trust")).etag, (await current(session, "status")).etag)
        if key != self.key or self.value is None:
            self.value, self.key = await opened_lists(session), key
        return self.value


def day_to_date(d: int) -> date:
    return EPOCH + timedelta(days=d)


def _holder(p: Pass, cred: crypto.Credential, agency: Agency | None, today: date) -> s.Holder:
    w = p.worker
    hc = w.health_check_until
    return s.Holder(
        serial=cred.serial,
        name=cred.name,
        photo_url=f"/api/passes/{cred.serial}/photo",
        agency=s.AgencyRef(id=cred.agency_id, name=agency.name if agency else ""),
        services=[s.Service(key=k, zh=SERVICE_LABELS[k][0], en=SERVICE_LABELS[k][1]) for k in mask_to_services(cred.services)],
        issued_on=day_to_date(cred.issued_day).isoformat(),
        valid_until=day_to_date(cred.expires_day).isoformat(),
        health_check=s.HealthCheck(valid_until=hc.isoformat() if hc else None, in_date=bool(hc and hc >= today)),
        training=s.Training(
            in_date=training_in_date(w, today),
            records=[
                s.TrainingRecord(course=t.course, day=t.day.isoformat(), hours=t.hours, certificate=t.certificate)
                for t in w.trainings
            ],
        ),
    )


async def _answer(
    session: AsyncSession, journal: Journal, result: crypto.Result, p: Pass | None, cred: crypto.Credential | None,
    status: crypto.StatusList, *, now: int, printed: bool, channel: str, verifier: str, device_id: str | None,
    serial: int | None,
) -> s.VerifyResponse:
    colour, head, head_en, expl, expl_en = RESULT_TEXT[result]
    reasons: list[str] = []
    reasons_en: list[str] = []
    if result in crypto.STATUS_RESULTS and result != crypto.Result.VALID and p is not None and p.reason:
        reasons, reasons_en = [p.reason], [p.reason_en or p.reason]
    holder = None
    if cred is not None and p is not None and result in crypto.IDENTITY_RESULTS:
        holder = _holder(p, cred, await session.get(Agency, cred.agency_id), day_to_date(now // 86400))
    journal.add(Entry(serial=serial, at=now, result=str(result), channel=channel, verifier=verifier, device_id=device_id))
    return s.VerifyResponse(
        result=result, colour=colour, headline=head, headline_en=head_en, explanation=expl, explanation_en=expl_en,
        reasons=reasons, reasons_en=reasons_en, printed_card=printed, holder=holder, status_as_of=status.issued_at,
        server_time=now,
    )


async def verify_code(
    actor: Actor, master: Keyring, cache: ListCache, journal: Journal, body: s.CodeVerifyRequest
) -> s.VerifyResponse:
    """Verify a pass number and its current six-digit code (docs/spec/dp1.md §9.6).

    Only a right code tells anything about the pass: a wrong code, an unknown number and a pass not yet
    activated get one and the same answer (`wrong_code_answer`), so pass numbers cannot be enumerated.
    """
    session, now, verifier = actor.session, actor.now, actor.label
    trust, status = await cache.get(session)
    code = int(body.code)
    p = await session.get(Pass, body.serial)
    secret = totp_secret(master, p) if p is not None and p.cred is not None and p.issuer_sig is not None else None
    if p is None or p.cred is None or p.issuer_sig is None or secret is None or not crypto.check_code_now(secret, code, now):
        journal.add(Entry(serial=body.serial, at=now, result=str(crypto.Result.BAD_CODE), channel="code",
                          verifier=verifier, device_id=body.device_id))
        return wrong_code_answer(status, now)
    verdict = crypto.verify_code(p.cred, p.issuer_sig, code, now, trust, status, secret=secret)
    return await _answer(session, journal, verdict.result, p, verdict.cred, status, now=now, printed=False, channel="code",
                         verifier=verifier, device_id=body.device_id, serial=body.serial)


def wrong_code_answer(status: crypto.StatusList, now: int) -> s.VerifyResponse:
    """`bad_code` and nothing about the pass: no holder, no reasons."""
    colour, head, head_en, expl, expl_en = WRONG_CODE_TEXT
    return s.VerifyResponse(
        result=crypto.Result.BAD_CODE, colour=colour, headline=head, headline_en=head_en, explanation=expl,
        explanation_en=expl_en, reasons=[], reasons_en=[], printed_card=False, holder=None,
        status_as_of=status.issued_at, server_time=now,
    )


async def verify_qr(
    actor: Actor, master: Keyring, cache: ListCache, journal: Journal, body: s.VerifyRequest
) -> s.VerifyResponse:
    """Verify a scanned code as the server, record the check (in the journal), and say what it means."""
    session, now, verifier = actor.session, actor.now, actor.label
    trust, status = await cache.get(session)
    p: Pass | None = None
    secret: str | None = None
    try:
        parsed = crypto.parse_qr(body.qr)
    except crypto.CryptoError:
        parsed = None
    if parsed is not None:
        p = await session.get(Pass, parsed.cred.serial)
        if p is not None and p.cred != parsed.cred_bytes:
            p = None  # the server never signed this credential for that serial
        if p is not None and parsed.kind == "live":
            secret = totp_secret(master, p)
    verdict = crypto.verify(body.qr, now, trust, status, secret=secret)
    result = verdict.result
    if parsed is not None and parsed.kind == "live" and secret is None and result in crypto.STATUS_RESULTS:
        result = crypto.Result.BAD_CODE  # online, and the server holds no secret for this pass: the code cannot be right
    return await _answer(
        session, journal, result, p, parsed.cred if parsed is not None else None, status, now=now,
        printed=parsed is not None and parsed.kind == "card", channel="qr", verifier=verifier, device_id=body.device_id,
        serial=parsed.cred.serial if parsed is not None else None,
    )
