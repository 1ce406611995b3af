"""Lambda without Docker: a Python function's handler runs in the invoking thread (docs/sandbox-runtime.md).

With ``config={"lambda": {"use_docker": False}}`` moto serves Lambda from ``LambdaSimpleBackend``, whose
``invoke`` only echoes the payload. After :func:`install`, a function whose Runtime is ``python*`` and whose
``Handler`` names an importable callable (``rootwatch.handlers.audit_account.handler``) runs that callable in
the invoking thread, as the Python runtime would: the event is the JSON payload, the context a
:class:`LambdaContext`, and an exception becomes a function error (``X-Amz-Function-Error: Unhandled``, payload
``{"errorMessage", "errorType": <class name>, "stackTrace"}``), so Step Functions Retry/Catch match on the class
name. Other runtimes keep moto's echo. The handler sees the function's environment (its Variables, the reserved
Lambda ones and its execution role's credentials) through rootwatch_sandbox.runtime.env_overlay.
"""

from __future__ import annotations

import base64
import datetime
import importlib
import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rootwatch_sandbox.runtime.env_overlay import function_environment
from rootwatch_sandbox.runtime.role_sessions import role_credentials
from rootwatch_sandbox.runtime.settings import handler_endpoint_url

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class LambdaContext:
    """The context object the Python runtime passes to a handler (the attributes Powertools reads)."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: float
    started_at: float = field(default_factory=time.monotonic)
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout (not enforced in the sandbox: threads can't be killed)."""
        elapsed = time.monotonic() - self.started_at
        return max(int((self.timeout_seconds - elapsed) * 1000), 0)


@dataclass(frozen=True)
class InvocationResult:
    """What one invocation answered: the JSON payload and, for a function error, ``"Unhandled"``."""

    payload: bytes
    function_error: str | None
    request_id: str
    log_tail: str


class _HandlerFault(Exception):
    """The runtime could not load the handler (AWS answers these as Runtime.* function errors)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _lambda_environment(fn: Any, context: LambdaContext) -> dict[str, str | None]:
    """The environment Lambda would give this invocation: reserved variables, role credentials, the Variables."""
    variables: dict[str, str | None] = {
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "_HANDLER": fn.handler,
        "TZ": ":UTC",
        # No X-Ray daemon here; a function that wants tracing may set it back in its Variables.
        "POWERTOOLS_TRACE_DISABLED": "true",
        # Lambda has no profiles or config files.
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
    }
    try:
        key_id, secret, token = role_credentials(fn.role, fn.function_name, fn.region)
    except Exception:  # a malformed Role: fall back to the sandbox's default account
        LOG.debug("could not assume role %r for %s", fn.role, fn.function_name, exc_info=True)
        key_id, secret, token = "testing", "testing", "testing"
    variables.update({"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token})
    for name in list(os.environ):
        if name == "AWS_ENDPOINT_URL" or name.startswith("AWS_ENDPOINT_URL_"):
            variables[name] = None
    endpoint = handler_endpoint_url()
    if endpoint is not None:
        variables["AWS_ENDPOINT_URL"] = endpoint
    variables.update({key: str(value) for key, value in (fn.environment_vars or {}).items()})
    return variables


def _load_handler(handler: str | None) -> Callable[[Any, LambdaContext], Any]:
    """Import ``module.function`` as the Python runtime does, raising its Runtime.* faults."""
    try:
        module_name, function_name = (handler or "").rsplit(".", 1)
        if not module_name or not function_name:
            raise ValueError("empty module or function name")
    except ValueError as exc:
        raise _HandlerFault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise _HandlerFault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from None
    except ImportError as exc:
        raise _HandlerFault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from None
    target = getattr(module, function_name, None)
    if not callable(target):
        raise _HandlerFault("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return target  # type: ignore[no-any-return]


def _error_payload(error_type: str, message: str, request_id: str, stack: list[str]) -> bytes:
    return json.dumps(
        {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}
    ).encode()


def _stack_trace(exc: BaseException) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop the runtime's own frame, as AWS shows user code only
    return traceback.format_list(frames)


def invoke_function(fn: Any, event: Any, *, qualifier: str | None = None) -> InvocationResult:
    """Run a moto ``LambdaFunction``'s handler in this thread, with its environment, and return what Lambda would."""
    request_id = str(uuid.uuid4())
    now = datetime.datetime.now(datetime.UTC)
    context = LambdaContext(
        function_name=fn.function_name,
        function_version=str(fn.version),
        invoked_function_arn=fn.function_arn if not qualifier else f"{fn.function_arn}:{qualifier}",
        memory_limit_in_mb=int(fn.memory_size),
        aws_request_id=request_id,
        log_group_name=f"/aws/lambda/{fn.function_name}",
        log_stream_name=f"{now:%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}",
        timeout_seconds=float(fn.timeout or 3),
    )
    started = time.perf_counter()
    function_error: str | None = None
    with function_environment(_lambda_environment(fn, context)):
        try:
            handler = _load_handler(fn.handler)
            result = handler(event, context)
            try:
                payload = json.dumps(result).encode()
            except (TypeError, ValueError) as exc:
                raise _HandlerFault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None
        except _HandlerFault as fault:
            function_error = "Unhandled"
            payload = _error_payload(fault.error_type, fault.message, request_id, [])
        except SystemExit as exc:
            function_error = "Unhandled"
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {exc.code}"
            payload = _error_payload("Runtime.ExitError", message, request_id, [])
        except Exception as exc:
            function_error = "Unhandled"
            payload = _error_payload(type(exc).__name__, str(exc), request_id, _stack_trace(exc))
            LOG.debug("%s raised %s: %s", fn.function_name, type(exc).__name__, exc)
    duration_ms = (time.perf_counter() - started) * 1000
    lines = [f"START RequestId: {request_id} Version: {fn.version}"]
    if function_error:
        error = json.loads(payload)
        lines.append(f"[ERROR] {error['errorType']}: {error['errorMessage']}")
    lines.append(f"END RequestId: {request_id}")
    lines.append(f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tMemory Size: {fn.memory_size} MB")
    log_tail = "\n".join(lines) + "\n"
    return InvocationResult(payload=payload, function_error=function_error, request_id=request_id, log_tail=log_tail)


def _runs_in_process(fn: Any) -> bool:
    return bool(fn.handler) and str(fn.run_time or "").startswith("python") and fn.package_type != "Image"


def _parse_event(body: Any) -> Any:
    from moto.awslambda.exceptions import LambdaClientError

    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not body:
        return {}
    try:
        return json.loads(body)
    except ValueError as exc:
        raise LambdaClientError(
            "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
        ) from None


def _patched_invoke(original: Callable[..., Any]) -> Callable[..., Any]:
    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes | str | None:
        fn = self.get_function(function_name, qualifier)
        if not _runs_in_process(fn) or self.lambda_simple_results_queue:
            return original(self, function_name, qualifier, body, headers, response_headers)  # type: ignore[no-any-return]
        event = _parse_event(body)
        invocation_type = (headers or {}).get("X-Amz-Invocation-Type") or "RequestResponse"
        response_headers["x-amz-executed-version"] = str(fn.version)
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            thread = threading.Thread(
                target=invoke_function, args=(fn, event), kwargs={"qualifier": qualifier}, daemon=True
            )
            thread.start()
            return b""
        result = invoke_function(fn, event, qualifier=qualifier)
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        if (headers or {}).get("X-Amz-Log-Type") == "Tail":
            response_headers["x-amz-log-result"] = base64.b64encode(result.log_tail.encode()[-4096:]).decode()
        response_headers["Content-Length"] = str(len(result.payload))
        return result.payload

    invoke.__wrapped__ = original  # type: ignore[attr-defined]
    return invoke


def install() -> None:
    """Run Python handlers in-process: patch moto's ``LambdaSimpleBackend.invoke``.

    Once per process: rootwatch_sandbox.runtime.install calls it.
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend

    LambdaSimpleBackend.invoke = _patched_invoke(LambdaSimpleBackend.invoke)  # type: ignore[method-assign]
