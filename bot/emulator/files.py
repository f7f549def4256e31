"""Files Telegram "has": what people post and the bot uploads, and ``getFile``."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from bot.emulator.records import JSONDict, StoredFile, UploadedFile, bad_request
from bot.emulator.state import WorldState


class FileStore(WorldState):
    """Files kept in memory under Telegram-like file ids and paths."""

    def reset(self) -> None:
        """Forget every file, then everything else."""
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[JSONDict]] = {}
        super().reset()

    def _api_getFile(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _file_input(
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile], field_name: str
    ) -> tuple[UploadedFile | None, str]:
        """An uploaded part (PTB sends it under the field's own name) or a file_id/URL."""
        value = params.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"can't find attached file {value}")
            return upload, ""
        if field_name in files:
            return files[field_name], ""
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {field_name} in the request")
        return None, value

    def _store_file(
        self, folder: str, content: bytes, mime_type: str, suffix: str, name: str | None = None
    ) -> StoredFile:
        n = next(self._ids)
        stored = StoredFile(
            file_id=f"BQACAgUAAx{n:08d}{folder[:2].upper()}",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{folder}/file_{n}{suffix}",
            content=content,
            mime_type=mime_type,
            file_name=name,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, content: bytes) -> list[JSONDict]:
        sizes = []
        for width, height in ((90, 68), (1280, 960)):
            stored = self._store_file("photos", content, "image/jpeg", ".jpg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(content),
                    "width": width,
                    "height": height,
                }
            )
        for size in sizes:
            self._photo_sets[str(size["file_id"])] = sizes
        return sizes

    def _store_document(self, upload: UploadedFile) -> JSONDict:
        mime = (
            mimetypes.guess_type(upload.filename, strict=False)[0]
            or upload.content_type
            or "application/octet-stream"
        )
        suffix = "." + upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else ""
        stored = self._store_file("documents", upload.content, mime, suffix, upload.filename)
        return self._document_json(stored)

    @staticmethod
    def _document_json(stored: StoredFile) -> JSONDict:
        document: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "mime_type": stored.mime_type,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        return document
