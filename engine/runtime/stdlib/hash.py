"""hash: checksums and HMACs of bytes, returned as bytes.

"Supported algorithms: MD5, SHA1, SHA224, SHA256, SHA384, SHA512" -- hash.compute_checksum.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import VALUE_ERROR, WorkflowError
from approvals.engine.runtime.stdlib.base import Param, pure, want

_ALGORITHMS = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA224": "sha224",
    "SHA256": "sha256",
    "SHA384": "sha384",
    "SHA512": "sha512",
}


def _algorithm(function: str, algorithm: Any) -> str:
    name = want(function, "algorithm", algorithm, str, "a string")
    if name not in _ALGORITHMS:
        raise WorkflowError.tagged(VALUE_ERROR, f"{function}: unsupported algorithm {name!r}")
    return _ALGORITHMS[name]


def _compute_checksum(host: Host, data: Any, algorithm: Any) -> bytes:
    fn = "hash.compute_checksum"
    return hashlib.new(_algorithm(fn, algorithm), want(fn, "data", data, bytes, "bytes")).digest()


def _compute_hmac(host: Host, key: Any, data: Any, algorithm: Any) -> bytes:
    fn = "hash.compute_hmac"
    secret = want(fn, "key", key, bytes, "bytes")
    return hmac.new(secret, want(fn, "data", data, bytes, "bytes"), _algorithm(fn, algorithm)).digest()


FUNCTIONS = (
    pure("hash.compute_checksum", _compute_checksum, Param("data"), Param("algorithm")),
    pure("hash.compute_hmac", _compute_hmac, Param("key"), Param("data"), Param("algorithm")),
)
