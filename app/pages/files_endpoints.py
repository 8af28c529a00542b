"""What the redirect_url page links to: the attached files (downloads) and the compte rendu PDF."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse

from app.errors import ApiError, ReportNotReady
from app.http.deps import RuntimeDep
from app.models import DraftStatus
from app.pages import review, web
from app.reports.service import stored_report

router = APIRouter(include_in_schema=False)

# Files shown in the browser run no script and load nothing, whatever they hold.
_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "same-origin",
}
_FILE_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
_IMAGE_CSP = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"


@router.get("/interop/drafts/{draft_id}/files/{file_id}")
async def page_file(
    request: Request, draft_id: str, file_id: str, runtime: RuntimeDep, download: bool = False
) -> Response:
    """An attached file, always as a download (`Content-Disposition: attachment`).

    Never shown inline on the sandbox's origin (SPEC §7): a vendor's PDF may carry
    JavaScript (/OpenAction, app.alert) that the browser's PDF viewer runs, and no CSP
    stops it. An image keeps its type, so the page's <img> thumbnail still shows it (an
    <img> ignores the disposition); opened by itself, it is downloaded too. `download`
    is still accepted (older links), and changes nothing.
    """
    assert runtime.engine is not None
    if web.signed_in(request, runtime) is None:
        return RedirectResponse(f"/interop/drafts/{quote(draft_id, safe='')}", status_code=303)
    try:
        row, path = await run_in_threadpool(
            review.page_file,
            runtime.engine,
            settings=runtime.settings,
            draft_id=draft_id,
            file_id=file_id,
        )
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    sniffed = review.inline_type(row)
    headers = {
        **_FILE_HEADERS,
        "Content-Disposition": web.content_disposition("attachment", row.filename),
    }
    if sniffed is not None and sniffed.startswith("image/"):
        headers["Content-Security-Policy"] = _IMAGE_CSP
        return FileResponse(path, media_type=sniffed, headers=headers)
    headers["Content-Security-Policy"] = _FILE_CSP
    return FileResponse(path, media_type="application/octet-stream", headers=headers)


@router.get("/interop/drafts/{draft_id}/report")
async def page_report(request: Request, draft_id: str, runtime: RuntimeDep) -> Response:
    """The compte rendu PDF, one click from the completed page (the API's needs a key)."""
    assert runtime.engine is not None
    back = f"/interop/drafts/{quote(draft_id, safe='')}"
    if web.signed_in(request, runtime) is None:
        return RedirectResponse(back, status_code=303)
    try:
        draft = await run_in_threadpool(review.read_draft, runtime.engine, draft_id=draft_id)
        if draft.status != DraftStatus.COMPLETED:
            raise ReportNotReady()
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime, back=back)
    pdf = await run_in_threadpool(
        stored_report, runtime.engine, draft=draft, directory=runtime.fixtures.practitioner
    )  # the same bytes as the API's /report: drawn once, then read back
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **_FILE_HEADERS,
            "Content-Disposition": f'inline; filename="compte-rendu-{draft.id}.pdf"',
        },
    )
