"""Uploads: store a file, get back the material reference to put in `materials`."""

from ninja import File, Router, Status
from ninja.files import UploadedFile

from tongban.services import uploads
from tongban.services.errors import ServiceError
from tongban.web.api.errors import documented
from tongban.web.api.schemas import MaterialRef
from tongban.web.api.security import WRITE

router = Router(tags=["材料"])


class TooLarge(ServiceError):
    status = 413
    code = "too_large"


@router.post(
    "/uploads",
    response={201: MaterialRef, **documented(400, 401, 413, 503)},
    auth=WRITE,
    summary="上传材料",
    description=(
        "multipart/form-data，文件字段名 file。类型按文件内容识别（PDF、JPG、PNG、Word、"
        "Excel、OFD），内容与扩展名不符的返回 400。返回的引用放进提交或补正的 materials。"
    ),
)
def upload(request, file: File[UploadedFile]):
    limit = uploads.MAX_UPLOAD
    if file.size is not None and file.size > limit:
        raise TooLarge(f"文件不能超过 {limit // 1024 // 1024} MB", {"file": "文件太大"})
    ref = uploads.store(file.read(limit + 1), file.name or "file", request.auth)
    return Status(201, ref)
