"""The file storage settings, as a function: the settings call it, and tests make the same entry."""

from __future__ import annotations


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str | None,
    region: str | None,
    access_key: str | None,
    secret_key: str | None,
    public_base_url: str | None,
    read_access: str,
) -> dict:
    """The ``STORAGES`` entry of files on S3.

    Downloads redirect to a URL of the bucket: with ``public_base_url`` (a CDN, or the
    bucket's public address) unsigned, otherwise signed and valid for five minutes. A
    private index (``read_access`` not "public") never sends a file to an unsigned URL:
    anyone could fetch it there.
    """
    public = public_base_url if read_access == "public" else None
    scheme, _, host = (public or "").partition("://")
    return {
        "BACKEND": "packages_app.s3_storage.PackageS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "access_key": access_key,
            "secret_key": secret_key,
            "custom_domain": host or None,
            "url_protocol": f"{scheme}:" if public else "https:",
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": not public,
            "querystring_expire": 300,
        },
    }
