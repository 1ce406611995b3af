"""The sandbox as an HTTP endpoint: moto's server plus rootwatch's extensions and seeding API.

    with SandboxServer(port=0) as server:            # port 0: any free port
        boto3.client("sts", endpoint_url=server.endpoint_url, ...)
        requests.post(f"{server.endpoint_url}/_rootwatch/faults", json={...})

It runs moto's ``ThreadedMotoServer`` in this process, so everything ``patches.install()`` adds (AssumeRoot,
root users, in-process Lambda handlers, Step Functions) is served over HTTP. In front of moto's WSGI app sits
:class:`SeedingRoutes`, which answers ``POST /_rootwatch/...`` from ``rootwatch_sandbox.seeding.ROUTES`` and turns
any request that blows up into a JSON 500: the server never dies on a bad request.

Process-wide effects while a server runs (restored by ``stop()``): moto's config (Lambda without Docker, Step
Functions execution on), ``MOTO_PORT`` (moto's interpreter calls Lambda at ``localhost:$MOTO_PORT``), and the
endpoint handlers' boto3 calls use (``AWS_ENDPOINT_URL`` inside each invocation). One server per process.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from rootwatch_sandbox import iam_enforcement, patches, runtime

LOG = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
SEEDING_PREFIX = "/_rootwatch"
MAX_SEEDING_BODY = 1024 * 1024
#: Seeding bodies are a few levels deep; anything deeper is refused before a route (or json) recurses into it.
MAX_SEEDING_DEPTH = 32

SERVER_MOTO_CONFIG: dict[str, dict[str, Any]] = {
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
}

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class SandboxServerError(RuntimeError):
    """The server could not start (e.g. the port is in use); the message says why in one line."""


def _json_response(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}
    payload = json.dumps(body, default=str).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    if status == 405:
        headers.append(("Allow", "POST"))
    start_response(f"{status} {reasons.get(status, 'Error')}", headers)
    return [payload]


def _seeding_routes() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    from rootwatch_sandbox import seeding

    return seeding.ROUTES  # type: ignore[no-any-return]


def _seeding_error_class() -> type[Exception] | None:
    try:
        from rootwatch_sandbox.seeding import SeedingError
    except ImportError:
        return None
    return SeedingError  # type: ignore[no-any-return]


class SeedingRoutes:
    """WSGI middleware: ``POST /_rootwatch/<route>`` goes to the seeding API, everything else to moto.

    Answers, always JSON: 200 with the route's result; 400 for a body that is not a JSON object, is larger
    than ``MAX_SEEDING_BODY`` or nested deeper than ``MAX_SEEDING_DEPTH`` (the message names the problem) and
    for a ``SeedingError`` with status 400; 404 for an unknown route or a SeedingError
    with status 404; 405 for a method other than POST; 500 for anything unexpected, here or in moto. An empty
    body counts as ``{}``.
    """

    def __init__(self, app: WsgiApp, routes: Callable[[], dict[str, Callable[[dict[str, Any]], dict[str, Any]]]]):
        self._app = app
        self._routes = routes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        if path == SEEDING_PREFIX or path.startswith(SEEDING_PREFIX + "/"):
            try:
                return self._seed(environ, start_response, path.rstrip("/"))
            except Exception as exc:  # the seeding API must never take the server down
                LOG.exception("seeding request %s failed", path)
                return _json_response(start_response, 500, {"error": f"{type(exc).__name__}: {exc}", "path": path})
        try:
            return self._app(environ, start_response)
        except Exception as exc:  # moto raised instead of answering: answer like an AWS internal failure
            LOG.exception("request %s %s failed", environ.get("REQUEST_METHOD"), path)
            body = {"__type": "InternalFailure", "message": f"{type(exc).__name__}: {exc}"}
            return _json_response(start_response, 500, body)

    def _seed(self, environ: dict[str, Any], start_response: StartResponse, path: str) -> Iterable[bytes]:
        try:
            routes = self._routes()
        except ImportError as exc:
            return _json_response(start_response, 500, {"error": f"the seeding API is not available: {exc}"})
        handler = routes.get(path)
        if handler is None:
            known = ", ".join(sorted(routes))
            return _json_response(start_response, 404, {"error": f"unknown seeding route {path!r} (known: {known})"})
        if environ.get("REQUEST_METHOD", "GET").upper() != "POST":
            return _json_response(start_response, 405, {"error": f"{path}: use POST with a JSON object body"})
        body, problem = self._read_body(environ)
        if problem is not None:
            return _json_response(start_response, 400, {"error": f"{path}: {problem}"})
        seeding_error = _seeding_error_class()
        try:
            result = handler(body)
        except Exception as exc:
            if seeding_error is not None and isinstance(exc, seeding_error):
                status = int(getattr(exc, "status", 400))
                return _json_response(start_response, status if status in (400, 404) else 400, {"error": str(exc)})
            raise
        return _json_response(start_response, 200, result if isinstance(result, dict) else {"result": result})

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return {}, "the Content-Length header is not a number"
        if length > MAX_SEEDING_BODY:
            return {}, f"the body is larger than {MAX_SEEDING_BODY} bytes"
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        if not raw.strip():
            return {}, None
        too_deep = f"the body is nested too deeply (more than {MAX_SEEDING_DEPTH} levels of objects and arrays)"
        try:
            body = json.loads(raw)
        except RecursionError:  # e.g. "[" * 100000: json recurses once per level
            return {}, too_deep
        except (UnicodeDecodeError, ValueError) as exc:
            return {}, f"the body is not valid JSON ({exc})"
        if not isinstance(body, dict):
            return {}, f"the body must be a JSON object, not {type(body).__name__}"
        if _depth_exceeds(body, MAX_SEEDING_DEPTH):
            return {}, too_deep
        return body, None


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when ``value`` nests objects/arrays more than ``limit`` levels deep (iterative: no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; ``SandboxServerError`` naming the address when that fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        reason = exc.strerror or str(exc)
        raise SandboxServerError(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's line per request on stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class _MotoThreadedServer(ThreadedMotoServer):
    """moto's ThreadedMotoServer, binding before it returns from start() and serving SeedingRoutes in front.

    moto's own start() binds inside its thread, so a port in use leaves start() waiting forever.
    """

    def __init__(self, host: str, port: int, log_requests: bool) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self._request_handler = MotoRequestHandler if log_requests else _QuietRequestHandler

    def start(self) -> None:
        app = SeedingRoutes(DomainDispatcherApplication(create_backend_app), _seeding_routes)
        # Bind here: werkzeug answers a port in use with sys.exit(1), and moto's start() with a hang.
        listener = _listen(self._ip_address, self._port)
        try:
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=self._request_handler, fd=listener.fileno()
            )
        finally:
            listener.close()  # werkzeug serves a duplicate of it
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, name="rootwatch-sandbox", daemon=True)
        self._thread.start()
        self._server_ready_event.set()

    def stop(self) -> None:
        server = self._server
        super().stop()
        if server is not None:
            server.server_close()  # moto leaves the listening socket open


class SandboxServer:
    """moto plus centralized root access, served over HTTP from this process. Use as a context manager.

    ``port=0`` picks a free port (read ``endpoint_url``). ``demo_org=N`` seeds an org of N member accounts through
    ``POST /_rootwatch/demo-org`` once listening. ``log_requests`` prints werkzeug's line per request.
    ``iam_enforcement=False`` lets assumed-role callers do anything (default: on unless ``ROOTWATCH_SANDBOX_IAM=off``).
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        demo_org: int | None = None,
        *,
        log_requests: bool = False,
        iam_enforcement: bool | None = None,
    ) -> None:
        if demo_org is not None and demo_org < 0:
            raise ValueError(f"demo_org: must be a number of accounts >= 0, got {demo_org}")
        self.host = host
        self.port = port
        self.demo_org = demo_org
        self.log_requests = log_requests
        self.iam_enforcement = iam_enforcement
        self.demo_org_result: dict[str, Any] | None = None
        self._server: _MotoThreadedServer | None = None
        self._saved_config: dict[str, Any] = {}
        self._saved_moto_port: str | None = None

    @property
    def endpoint_url(self) -> str:
        """``http://host:port`` of the running server (the real port when started with port 0)."""
        if self._server is None:
            raise RuntimeError("the sandbox server is not running; call start() first")
        host, port = self._server.get_host_and_port()
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    def start(self) -> SandboxServer:
        """Serve on host:port with empty state (SandboxServerError if it cannot listen); seed a demo org if asked."""
        if self._server is not None:
            return self
        patches.install()
        server = _MotoThreadedServer(self.host, self.port, self.log_requests)
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()  # empty state, as an in-process Sandbox starts with (root-access state included)
        server.start()
        self._server = server
        self._configure_process(server.get_host_and_port()[1])
        iam_enforcement.set_enabled(self.iam_enforcement)
        if self.demo_org:
            try:
                self.demo_org_result = self.seed("demo-org", {"accounts": self.demo_org})
            except Exception:
                self.stop()
                raise
        return self

    def stop(self) -> None:
        """Stop serving and restore what start() changed in the process. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        self._restore_process()
        iam_enforcement.set_enabled(None)

    def seed(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``/_rootwatch/<route>`` over HTTP, as any client would; RuntimeError on a non-200."""
        request = urllib.request.Request(  # noqa: S310 -- our own http endpoint
            f"{self.endpoint_url}{SEEDING_PREFIX}/{route.strip('/')}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                return json.loads(response.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise RuntimeError(f"seeding {route}: HTTP {exc.code}: {detail}") from None

    def _configure_process(self, port: int) -> None:
        from moto.core.config import default_user_config

        for key, value in SERVER_MOTO_CONFIG.items():
            self._saved_config[key] = default_user_config.get(key)
            default_user_config[key] = dict(value)  # type: ignore[literal-required]
        self._saved_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(port)
        runtime.set_endpoint_url(self.endpoint_url)

    def _restore_process(self) -> None:
        from moto.core.config import default_user_config

        for key, value in self._saved_config.items():
            if value is None:
                default_user_config.pop(key, None)  # type: ignore[misc]
            else:
                default_user_config[key] = value  # type: ignore[literal-required]
        self._saved_config.clear()
        if self._saved_moto_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = self._saved_moto_port
        runtime.set_endpoint_url(None)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "SandboxServer", "SandboxServerError", "SeedingRoutes"]
