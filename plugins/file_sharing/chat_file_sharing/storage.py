"""Where file bytes live: a local directory (default) or an S3-compatible bucket."""

import shutil
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 64 * 1024


class Storage(Protocol):
    def save(self, key: str, stream: BinaryIO, content_type: str) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one directory, named by their random key (never by user input)."""

    def __init__(self, directory: str | Path):
        self.root = Path(directory).resolve()

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("storage keys are alphanumeric")
        return self.root / key[:2] / key

    def save(self, key: str, stream: BinaryIO, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, moto...); credentials from the usual AWS env."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str | None = None):
        import boto3

        self.bucket = bucket
        self.s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def save(self, key: str, stream: BinaryIO, content_type: str) -> None:
        self.s3.upload_fileobj(stream, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def open(self, key: str) -> BinaryIO:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)


def make_storage(settings: dict, default_dir: Path) -> Storage:
    """The backend named by the plugin's `storage` setting ("local" or "s3")."""
    if settings.get("storage", "local") == "s3":
        return S3Storage(
            settings["s3_bucket"], settings.get("s3_endpoint_url"), settings.get("s3_region")
        )
    return LocalStorage(settings.get("directory") or default_dir)
