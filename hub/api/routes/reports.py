"""The public report-code pages: ``GET``/``POST /r/<token>`` and address suggestions.

No login: the signed token is the permission. Submissions are capped in size and rate
limited per client address and per phone number (in-memory token buckets, per process:
:mod:`hub.reports.ratelimit`).
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message

from hub.api.deps import SettingsDep, StoreDep
from hub.push.http_sms import sms_sender
from hub.reports.desk import ReportDesk, ReportFieldError
from hub.reports.form import ReportInput, ValidReport, check_report
from hub.reports.page import (
    TEXT,
    FormView,
    choose_lang,
    form_page,
    refused_page,
    thanks_page,
)
from hub.reports.photo import MAX_PHOTO_BYTES, PhotoError
from hub.reports.tokens import ReportScope, ReportTokenError, verify_report_token
from models.base import utc_now

router = APIRouter(prefix="/r", tags=["reports"])

MAX_BODY_BYTES = MAX_PHOTO_BYTES + 64 * 1024
_desk_lock = threading.Lock()


def get_report_desk(request: Request, settings: SettingsDep, store: StoreDep) -> ReportDesk:
    """The hub's report desk (:class:`hub.app.Hub` sets it with the push dispatcher; an API
    without a hub makes one on first use, without push); 503 without an identity key, since
    ID numbers could not be hashed."""
    with _desk_lock:
        desk: ReportDesk | None = getattr(request.app.state, "reports", None)
        if desk is None:
            if settings.identity_key is None:
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no identity key")
            desk = ReportDesk.for_hub(settings, store, sms_sender(settings), sink=None)
            request.app.state.reports = desk
        return desk


DeskDep = Annotated[ReportDesk, Depends(get_report_desk)]
Lang = Annotated[str | None, Query(max_length=5)]


def _html(body: str, code: int = 200, nonce: str = "") -> HTMLResponse:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return HTMLResponse(
        body,
        code,
        headers={
            "Content-Security-Policy": f"default-src 'none'; style-src 'unsafe-inline'; "
            f"script-src {script}; connect-src 'self'; form-action 'self'",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _scope(token: str, settings: SettingsDep) -> ReportScope | ReportTokenError:
    try:
        return verify_report_token(token, settings.secret_key.get_secret_value(), utc_now())
    except ReportTokenError as exc:
        return exc


def _refused(lang: str, exc: ReportTokenError) -> HTMLResponse:
    code = status.HTTP_410_GONE if exc.reason == "expired" else status.HTTP_403_FORBIDDEN
    return _html(refused_page(lang, exc.reason), code)


def _form(
    lang: str,
    desk: ReportDesk,
    raw: ReportInput,
    errors: dict[str, str],
    code: int,
    notice: str = "",
) -> HTMLResponse:
    today = desk.today(utc_now())
    nonce = secrets.token_urlsafe(12)
    view = FormView(raw, errors, desk.regions(today), today, notice)
    return _html(form_page(lang, view, nonce), code, nonce)


@router.get("/{token}", response_class=HTMLResponse)
def show_form(
    token: str, request: Request, settings: SettingsDep, desk: DeskDep, lang: Lang = None
) -> HTMLResponse:
    """The report form (or a page saying the code is not valid)."""
    language = choose_lang(lang, request.headers.get("accept-language"))
    scope = _scope(token, settings)
    if isinstance(scope, ReportTokenError):
        return _refused(language, scope)
    return _form(language, desk, ReportInput(), {}, status.HTTP_200_OK)


class AddressSuggestion(BaseModel):
    """A ledger address offered while typing."""

    code: str = Field(title="Address code", description="The door-plate code.")
    text: str = Field(title="Address", description="How the address is written.")


@router.get("/{token}/addresses")
def suggest_addresses(
    token: str,
    settings: SettingsDep,
    desk: DeskDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
) -> list[AddressSuggestion]:
    """Addresses like ``q`` in the token's grid."""
    scope = _scope(token, settings)
    if isinstance(scope, ReportTokenError):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"report code {scope.reason}")
    return [AddressSuggestion(code=c.address_code, text=c.text) for c in desk.suggestions(scope, q)]


@router.post("/{token}", response_class=HTMLResponse)
async def submit_report(
    token: str, request: Request, settings: SettingsDep, desk: DeskDep, lang: Lang = None
) -> HTMLResponse:
    """Check and store a report; the form again with an error under each bad field."""
    language = choose_lang(lang, request.headers.get("accept-language"))
    scope = _scope(token, settings)
    if isinstance(scope, ReportTokenError):
        return _refused(language, scope)
    body = await _capped_body(request, MAX_BODY_BYTES)
    if body is None:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "report too large")
    client = request.client.host if request.client else "unknown"
    form = await _replayed(request, body).form(max_files=1, max_fields=60)
    raw = ReportInput(
        name=str(form.get("name") or "")[:200],
        id_number=str(form.get("id_number") or "")[:40],
        phone=str(form.get("phone") or "")[:40],
        arrived=str(form.get("arrived") or "")[:8],
        arrival_date=str(form.get("arrival_date") or "")[:20],
        address=str(form.get("address") or "")[:400],
        address_code=str(form.get("address_code") or "")[:64],
        regions=tuple(str(v)[:32] for v in form.getlist("regions"))[:50],
        consent=form.get("consent") == "yes",
    )
    upload = form.get("health_code")
    photo = await upload.read(MAX_PHOTO_BYTES + 1) if isinstance(upload, UploadFile) else b""
    await form.close()
    if not desk.allow_client(client):
        notice = _text(language, "rate_limited")
        return _form(language, desk, raw, {}, status.HTTP_429_TOO_MANY_REQUESTS, notice)
    today = desk.today(utc_now())
    regions = {r.region_code for r in desk.regions(today)}
    checked = check_report(raw, today=today, hasher=desk.hasher, regions=regions)
    errors = dict(checked) if isinstance(checked, dict) else {}
    health_code = None
    if photo:
        try:
            health_code = await run_in_threadpool(desk.health_code, photo)
        except PhotoError as exc:
            errors["health_code"] = exc.key
    if errors or not isinstance(checked, ValidReport):
        notice = _text(language, "form_errors")
        return _form(language, desk, raw, errors, status.HTTP_422_UNPROCESSABLE_CONTENT, notice)
    if not desk.allow_phone(checked.phone):
        notice = _text(language, "rate_limited")
        return _form(language, desk, raw, {}, status.HTTP_429_TOO_MANY_REQUESTS, notice)
    report = dataclasses.replace(checked, health_code=health_code)
    try:
        outcome = await run_in_threadpool(desk.submit, report, scope, utc_now())
    except ReportFieldError as exc:
        notice = _text(language, "form_errors")
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return _form(language, desk, raw, {exc.field: exc.key}, code, notice)
    return _html(thanks_page(language, outcome.risk))


def _text(lang: str, key: str) -> str:
    return TEXT[lang][key]


async def _capped_body(request: Request, cap: int) -> bytes | None:
    """The request body, or None once it is larger than ``cap`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _replayed(request: Request, body: bytes) -> Request:
    """A request reading ``body`` (already taken from the wire) for form parsing."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)
