"""A gRPC server on 127.0.0.1 for one service of unary methods, typed with proto-plus messages.

Google's Python clients for some APIs (google-cloud-workflows' ExecutionsClient)
only speak gRPC; a generic handler with the proto-plus types' own
serialize/deserialize serves them without generated servicer code.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self

import grpc

from approvals.engine.api.service import LocalService


def unary(
    method: Callable[[Any, grpc.ServicerContext], Any], request_type: Any, response_type: Any
) -> grpc.RpcMethodHandler:
    """A unary-unary handler whose messages are proto-plus classes."""
    return grpc.unary_unary_rpc_method_handler(
        method,
        request_deserializer=request_type.deserialize,
        response_serializer=response_type.serialize,
    )


class GrpcServer(LocalService):
    """Serves `service` (full name, e.g. ``google.cloud.workflows.executions.v1.Executions``)."""

    service: str

    def __init__(self, workers: int = 4, port: int | None = None) -> None:
        self._workers = workers
        # A fixed port lets a restarted server keep the address its clients were given.
        self._fixed_port = port or 0
        self._server: grpc.Server | None = None
        self._port = 0

    @abstractmethod
    def methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        """Method name -> handler, see `unary`."""

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the form *_EMULATOR_HOST variables take."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"127.0.0.1:{self._port}"

    def start(self) -> Self:
        """Start serving; returns self."""
        if self._server is not None:
            return self
        handler = grpc.method_handlers_generic_handler(self.service, dict(self.methods()))
        # Without SO_REUSEPORT a port someone else holds fails to bind instead of being shared.
        server = grpc.server(
            ThreadPoolExecutor(max_workers=self._workers),
            handlers=[handler],
            options=[("grpc.so_reuseport", 0)],
        )
        self._port = server.add_insecure_port(f"127.0.0.1:{self._fixed_port}")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace=None).wait(timeout=5)
