"""The analysis page and the POST view that stores an upload and starts the long callback."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import get_valid_filename
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from longcallbacks import (
    TooManyLongCallbacks,
    get_state,
    get_state_id,
    invoke_long_callback,
    notify,
)

from .analysis import (
    RAGGED_CHOICES,
    SOURCE_SAMPLE,
    SOURCE_UPLOAD,
    analyse_csv_file,
    analysis_status,
)
from .samples import SAMPLES, SAMPLES_BY_KEY

UPLOAD_FOLDER = "analysis"


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading an upload once it passes DEMO_ANALYSIS_MAX_BYTES, before it reaches the disk.

    Placed first, so the handlers after it never see the data of an oversized file.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.DEMO_ANALYSIS_MAX_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def analysis_page(request: HttpRequest) -> HttpResponse:
    get_state(request)
    context = {
        "title": "CSV analysis",
        "samples": SAMPLES,
        "max_megabytes": settings.DEMO_ANALYSIS_MAX_BYTES / (1024 * 1024),
    }
    return render(request, "demo/analysis.html", context)


@csrf_exempt
@require_POST
def start_analysis(request: HttpRequest) -> HttpResponse:
    # The size limit must be in place before anything reads the body, and the CSRF check
    # reads it, so the check runs inside, after the handler is added.
    limiter = SizeLimitUploadHandler(request)
    request.upload_handlers.insert(0, limiter)
    return _start_analysis(request, limiter)


@csrf_protect
def _start_analysis(request: HttpRequest, limiter: SizeLimitUploadHandler) -> HttpResponse:
    # The page's script posts with fetch and stays on the page, so it needs no redirect.
    # Every outcome reaches the user as a notification either way.
    if request.headers.get("x-requested-with") == "fetch":
        redirect: HttpResponse = HttpResponse(status=204)
    else:
        redirect = HttpResponseRedirect(reverse("demo:analysis"))
    state = get_state(request)
    upload: UploadedFile | None = request.FILES.get("file")
    sample_key = request.POST.get("sample", "")
    ragged = request.POST.get("ragged", "error")

    if limiter.too_large:
        limit = settings.DEMO_ANALYSIS_MAX_BYTES
        notify(
            state,
            "error",
            f"The file is larger than the limit of {limit:,} bytes. Choose a smaller file.",
        )
        return redirect
    if ragged not in RAGGED_CHOICES:
        notify(
            state,
            "error",
            f"Invalid choice {ragged[:40]!r} for ragged rows; choose 'error' or 'skip'.",
        )
        return redirect
    if state.analysis_run:
        notify(
            state,
            "warning",
            "An analysis is already running. Cancel it or wait for it to finish.",
        )
        return redirect

    if upload is not None:
        file_name = upload.name or "upload.csv"
        stored_name = default_storage.save(
            f"{UPLOAD_FOLDER}/{uuid.uuid4().hex}/{get_valid_filename(file_name) or 'upload.csv'}",
            upload,
        )
        source, name = SOURCE_UPLOAD, stored_name
    elif sample_key in SAMPLES_BY_KEY:
        file_name = SAMPLES_BY_KEY[sample_key].file_name
        source, name = SOURCE_SAMPLE, sample_key
    else:
        notify(state, "error", "Choose a CSV file to upload or pick a sample.")
        return redirect

    run_id = uuid.uuid4().hex
    try:
        with state:
            state.analysis_run = run_id
            state.analysis_record = ""
            state.analysis_failure = ""
            state.analysis_file = file_name
            state.analysis_progress = "Waiting for a worker..."
            state.analysis_bar = ""
            state.analysis_outcome = ""
            state.analysis_result = ""
            handle = invoke_long_callback(
                state,
                analyse_csv_file,
                [get_state_id(state), run_id, source, name, ragged],
                analysis_status,
                [run_id, file_name],
            )
            state.analysis_record = str(handle.id)
    except TooManyLongCallbacks:
        # The state changes and the library's warning were rolled back with the transaction
        # of `with state:`, so the warning is sent again outside it.
        _delete_upload(source, name)
        notify(
            state,
            "warning",
            "Too many tasks are running. Wait for one to finish, then try again.",
        )
        return redirect
    except Exception:
        _delete_upload(source, name)
        raise
    notify(state, "info", f"Analysis of {file_name} started.")
    return redirect


def _delete_upload(source: str, name: str) -> None:
    if source == SOURCE_UPLOAD:
        default_storage.delete(name)
