"""Lambda without Docker, and Step Functions on moto's interpreter (docs/sandbox-runtime.md).

What ``install()`` changes in moto 5.2.5, once per process:

- **Lambda runs in-process.** With ``config={"lambda": {"use_docker": False}}`` moto serves Lambda from
  ``LambdaSimpleBackend``, whose ``invoke`` only echoes the payload. A function whose Runtime is
  ``python*`` and whose ``Handler`` names an importable callable (``rootwatch.handlers.audit_account.handler``)
  now runs that callable in the invoking thread, as the Python runtime would: the event is the JSON payload,
  the context a :class:`LambdaContext`, and an exception becomes a function error
  (``X-Amz-Function-Error: Unhandled``, payload ``{"errorMessage", "errorType": <class name>, "stackTrace"}``),
  so Step Functions Retry/Catch match on the class name. Other runtimes keep moto's echo.
- **The function's environment** (its Variables plus the reserved Lambda ones, and credentials for its
  execution role) is visible to the handler through ``os.environ``, for the handler's thread only: see
  :class:`_InvocationEnviron`. Concurrent invocations each see their own function's environment.
- **boto3 inside the handler reaches the sandbox itself**: in-process, moto's mock intercepts every call (any
  ``AWS_ENDPOINT_URL*`` is hidden from the handler); on a server, ``AWS_ENDPOINT_URL`` is the server.
- **The state machine's own calls** (Lambda invoke, ItemReader/ResultWriter S3) are made with credentials of
  its role, so the sandbox's IAM enforcement holds it to that role's policies; a Lambda AccessDeniedException
  reaches the state as ``Lambda.AWSLambdaException``, as in AWS.
- **Step Functions definitions are localized** before moto parses them (:func:`localize_definition`), so the
  definition deployed to AWS is the one the sandbox runs.
- **Retry waits can be scaled down** (:func:`set_retry_scale`, or ``ROOTWATCH_SANDBOX_RETRY_SCALE``).
- **A Distributed Map batches its items** (``ItemBatcher``: one child per ``{"Items", "BatchInput"}`` batch),
  which moto 5.2.5 cannot parse: see :func:`item_batchers` and :func:`make_batches`.
- **A Distributed Map enforces its failure tolerance** (moto ignores it and turns a failed item into null),
  an execution output that holds datetimes no longer crashes DescribeExecution, and ListMapRuns right after
  StartExecution answers instead of raising.

The Step Functions patches wait until moto first serves a Step Functions request (its interpreter takes about a
second to import). docs/sandbox-runtime.md says what works, what moto cannot do, and how tests use this.
"""

from __future__ import annotations

import base64
import copy
import datetime
import importlib
import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

LOG = logging.getLogger(__name__)

RETRY_SCALE_ENV = "ROOTWATCH_SANDBOX_RETRY_SCALE"
"""Environment variable: a factor applied to every Step Functions retry wait (e.g. 0.001 in tests)."""

_install_lock = threading.Lock()
_installed = False
_sfn_installed = False
_retry_scale: float | None = None
_endpoint_url: str | None = None


# --------------------------------------------------------------------------------------------------------------------
# Settings


def set_retry_scale(scale: float | None) -> None:
    """Multiply every Step Functions retry wait by ``scale`` (0 disables the waits); None falls back to the env.

    AWS requires ``IntervalSeconds`` to be a whole number of seconds and moto waits for real, so a test that
    exercises Retry would sleep for seconds; with a scale of 0.001 a 2 s interval becomes 2 ms. The setting is
    process-wide and also read by a server in this process.
    """
    global _retry_scale
    if scale is not None and scale < 0:
        raise ValueError(f"retry scale: must be >= 0, got {scale}")
    _retry_scale = scale


def retry_scale() -> float:
    """The factor applied to retry waits: :func:`set_retry_scale`, else ``$ROOTWATCH_SANDBOX_RETRY_SCALE``, else 1."""
    if _retry_scale is not None:
        return _retry_scale
    raw = os.environ.get(RETRY_SCALE_ENV)
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        LOG.warning("%s=%r is not a number; retry waits are not scaled", RETRY_SCALE_ENV, raw)
        return 1.0
    return max(value, 0.0)


def set_endpoint_url(url: str | None) -> None:
    """Where handlers' boto3 calls go when no in-process mock is active (set by ``SandboxServer``)."""
    global _endpoint_url
    _endpoint_url = url


def _handler_endpoint_url() -> str | None:
    """The endpoint for handlers' boto3 calls, or None when moto's in-process mock intercepts them."""
    from moto.core.models import botocore_stubber

    if botocore_stubber.enabled:
        return None
    if _endpoint_url:
        return _endpoint_url
    from moto.settings import moto_server_port

    return f"http://localhost:{moto_server_port()}"


# --------------------------------------------------------------------------------------------------------------------
# The function's environment, per thread


_UNSET = object()
_overlays = threading.local()


def _current_overlay() -> dict[str, Any] | None:
    stack = getattr(_overlays, "stack", None)
    return stack[-1] if stack else None


class _InvocationEnviron(os._Environ):  # type: ignore[name-defined,misc]
    """``os.environ`` that shows the running invocation's environment to the invoking thread only.

    Lambda gives each function its own process, so its Variables are simply the environment. Here many
    functions share one process and run concurrently (a Distributed Map invokes from many threads), and
    ``os.environ`` is process-global. Options were a global lock around each invocation (serializes every
    Map item, deadlocks when a handler waits on another invocation over HTTP) or an overlay per thread. This is
    the overlay: while a thread runs a handler, reads and writes of ``os.environ`` (and ``os.getenv``) in that
    thread see the function's environment layered over the process's; other threads see the process's.
    Limits: threads a handler starts see the process environment (read settings in the handler's thread and
    pass them down), and child processes inherit the real process environment.
    """

    def __getitem__(self, key: str) -> str:
        overlay = _current_overlay()
        if overlay is not None and key in overlay:
            value = overlay[key]
            if value is _UNSET:
                raise KeyError(key)
            return value  # type: ignore[no-any-return]
        return super().__getitem__(key)  # type: ignore[no-any-return]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = _current_overlay()
        if overlay is None:
            super().__setitem__(key, value)
            return
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"str expected, not {type(value).__name__}")
        overlay[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = _current_overlay()
        if overlay is None:
            super().__delitem__(key)
            return
        self[key]  # KeyError when the key is absent, as os.environ does
        overlay[key] = _UNSET

    def __iter__(self) -> Iterator[str]:
        overlay = _current_overlay()
        if overlay is None:
            yield from super().__iter__()
            return
        overlay = dict(overlay)
        for key in super().__iter__():
            if key not in overlay:
                yield key
        for key, value in overlay.items():
            if value is not _UNSET:
                yield key

    def __len__(self) -> int:
        if _current_overlay() is None:
            return super().__len__()  # type: ignore[no-any-return]
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        return dict(self)


@contextmanager
def function_environment(variables: Mapping[str, str | None]) -> Iterator[None]:
    """Show ``variables`` (None hides a variable) through ``os.environ`` in this thread only, for the block."""
    overlay: dict[str, Any] = {key: (_UNSET if value is None else str(value)) for key, value in variables.items()}
    stack = getattr(_overlays, "stack", None)
    if stack is None:
        stack = _overlays.stack = []
    stack.append(overlay)
    try:
        yield
    finally:
        stack.pop()


_MAX_SESSIONS = 16  # one per live role session; a sandbox reset makes new keys, so old sessions age out
_sessions: OrderedDict[tuple[str, str | None], Any] = OrderedDict()
_sessions_lock = threading.Lock()


def _patched_default_session(original: Callable[[], Any]) -> Callable[[], Any]:
    """``boto3.client(...)`` inside a handler uses a session with the function's credentials and region.

    boto3's default session resolves credentials once per process; in Lambda that process belongs to one
    function. Here it is shared, so inside an invocation the default session is one made (and cached) for the
    function's role credentials instead.
    """

    def _get_default_session() -> Any:
        overlay = _current_overlay()
        key_id = overlay.get("AWS_ACCESS_KEY_ID") if overlay is not None else None
        if not isinstance(key_id, str):
            return original()
        region = overlay.get("AWS_REGION") if overlay is not None else None
        key = (key_id, region if isinstance(region, str) else None)
        with _sessions_lock:
            session = _sessions.get(key)
            if session is None:
                import boto3

                session = _sessions[key] = boto3.session.Session()  # resolves from this thread's overlay
                while len(_sessions) > _MAX_SESSIONS:
                    _sessions.popitem(last=False)
            else:
                _sessions.move_to_end(key)
        return session

    _get_default_session.__wrapped__ = original  # type: ignore[attr-defined]
    return _get_default_session


def _install_environ_overlay() -> None:
    if not isinstance(os.environ, _InvocationEnviron):
        os.environ.__class__ = _InvocationEnviron


# --------------------------------------------------------------------------------------------------------------------
# Invocation


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


_ROLE_SESSION_SECONDS = 3600
_role_sessions: dict[tuple[str, str, str], tuple[Any, float]] = {}
_role_sessions_lock = threading.Lock()


def _role_credentials(role_arn: str, session_name: str, region: str) -> tuple[str, str, str]:
    """Credentials for a role, as Lambda (or Step Functions) gives them (moto's assume_role, cached per role and
    session name until five minutes before they expire). Never logged: only the invocation's environment has them.

    The role need not exist (moto maps the ARN's account); calls with these credentials act in that account.
    A cached session is dropped when the sandbox was reset (its key is gone) or when it nears expiry.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    with _role_sessions_lock:
        cached = _role_sessions.get((role_arn, session_name, region))
        if cached is not None:
            session, renew_at = cached
            if time.monotonic() < renew_at and session.access_key_id in (
                iam_backends[session.account_id][partition].access_keys
            ):
                return session.access_key_id, session.secret_access_key, session.session_token
        session = sts_backends[DEFAULT_ACCOUNT_ID][partition].assume_role(
            region_name=region,
            role_session_name=session_name[:64],
            role_arn=role_arn,
            policy="",
            duration=_ROLE_SESSION_SECONDS,
            external_id="",
        )
        _role_sessions[(role_arn, session_name, region)] = (session, time.monotonic() + _ROLE_SESSION_SECONDS - 300)
    return session.access_key_id, session.secret_access_key, session.session_token


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
        key_id, secret, token = _role_credentials(fn.role, fn.function_name, fn.region)
    except Exception:  # a malformed Role: fall back to the sandbox's default account
        LOG.debug("could not assume role %r for %s", fn.role, fn.function_name, exc_info=True)
        key_id, secret, token = "testing", "testing", "testing"
    variables.update({"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token})
    for name in list(os.environ):
        if name == "AWS_ENDPOINT_URL" or name.startswith("AWS_ENDPOINT_URL_"):
            variables[name] = None
    endpoint = _handler_endpoint_url()
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


# --------------------------------------------------------------------------------------------------------------------
# Step Functions


def localize_definition(definition: dict[str, Any] | str) -> dict[str, Any]:
    """The definition as moto 5.2.5 can parse it, with the same meaning wherever moto can run it.

    Applied to every state (nested Map/Parallel included); a definition that needs none of it is unchanged:

    - ``ItemProcessor.ProcessorConfig.ExecutionType: EXPRESS`` -> ``STANDARD`` (moto's grammar knows only
      STANDARD; child executions behave the same in the interpreter).
    - An integer ``ToleratedFailurePercentage`` -> float (moto's grammar wants a decimal point).
    - ``ResultWriter.WriterConfig`` (ResultWriter v2) is dropped; a ResultWriter left without a Resource is
      dropped too. moto writes only a manifest anyway, and keeps the Map's results in its output.

    - ``ItemBatcher`` is kept: moto's grammar has no such field, so the parse patch installed by
      :func:`install_step_functions` takes it out (:func:`item_batchers`, :func:`without_item_batchers`) and
      gives it back to the parsed Map, which then hands each child ``{"Items": [...], "BatchInput": {...}}``
      as AWS does. moto's own parser, unpatched, rejects it.

    Idempotent; never mutates its argument. Not handled (moto rejects them): JSONL/MANIFEST ItemReader input
    types, JSONata.
    """
    document = json.loads(definition) if isinstance(definition, str) else copy.deepcopy(definition)
    if not isinstance(document, dict):
        raise ValueError("definition: a state machine definition is a JSON object")
    _localize_states(document.get("States"))
    return document


def _localize_states(states: Any) -> None:
    if not isinstance(states, dict):
        return
    for state in states.values():
        if not isinstance(state, dict):
            continue
        if state.get("Type") == "Map":
            _localize_map(state)
        for branch in state.get("Branches") or []:
            if isinstance(branch, dict):
                _localize_states(branch.get("States"))


def _localize_map(state: dict[str, Any]) -> None:
    for key in ("ItemProcessor", "Iterator"):
        processor = state.get(key)
        if not isinstance(processor, dict):
            continue
        config = processor.get("ProcessorConfig")
        if isinstance(config, dict) and config.get("ExecutionType") == "EXPRESS":
            config["ExecutionType"] = "STANDARD"
        _localize_states(processor.get("States"))
    percentage = state.get("ToleratedFailurePercentage")
    if isinstance(percentage, int) and not isinstance(percentage, bool):
        state["ToleratedFailurePercentage"] = float(percentage)
    writer = state.get("ResultWriter")
    if isinstance(writer, dict) and "WriterConfig" in writer:
        writer.pop("WriterConfig")
        if "Resource" not in writer:
            state.pop("ResultWriter")


def item_batchers(definition: dict[str, Any] | str) -> dict[tuple[str, ...], dict[str, Any]]:
    """Each Map state's ``ItemBatcher``, keyed by the path of state names to it (``("AuditAccounts",)``; a Map
    inside a Map's ItemProcessor is ``("Outer", "Inner")``). Maps inside Parallel branches are not batched here.

    Refuses, naming the state, what the sandbox cannot run with the meaning AWS gives it: ``ItemSelector``
    together with ``ItemBatcher``, the ``...Path`` forms, and a batcher without a positive limit.
    """
    document = json.loads(definition) if isinstance(definition, str) else definition
    found: dict[tuple[str, ...], dict[str, Any]] = {}

    def walk(states: Any, scope: tuple[str, ...]) -> None:
        if not isinstance(states, dict):
            return
        for name, state in states.items():
            if not isinstance(state, dict) or state.get("Type") != "Map":
                continue
            batcher = state.get("ItemBatcher")
            if isinstance(batcher, dict):
                found[(*scope, name)] = _checked_batcher(name, state, batcher)
            for key in ("ItemProcessor", "Iterator"):
                processor = state.get(key)
                if isinstance(processor, dict):
                    walk(processor.get("States"), (*scope, name))

    if isinstance(document, dict):
        walk(document.get("States"), ())
    return found


def without_item_batchers(definition: dict[str, Any]) -> dict[str, Any]:
    """A copy of the definition without its ItemBatcher fields (what moto's grammar can read)."""
    document = copy.deepcopy(definition)

    def walk(states: Any) -> None:
        if not isinstance(states, dict):
            return
        for state in states.values():
            if isinstance(state, dict) and state.get("Type") == "Map":
                state.pop("ItemBatcher", None)
                for key in ("ItemProcessor", "Iterator"):
                    processor = state.get(key)
                    if isinstance(processor, dict):
                        walk(processor.get("States"))

    walk(document.get("States"))
    return document


def _checked_batcher(name: str, state: dict[str, Any], batcher: dict[str, Any]) -> dict[str, Any]:
    unsupported = sorted(key for key in batcher if key.endswith("Path"))
    if unsupported or "ItemSelector" in state:
        what = ", ".join(unsupported) if unsupported else "ItemSelector with ItemBatcher"
        raise ValueError(f"state {name}: the sandbox does not run {what}")
    limits = [batcher.get("MaxItemsPerBatch"), batcher.get("MaxInputBytesPerBatch")]
    if not any(isinstance(v, int | float) and not isinstance(v, bool) and v >= 1 for v in limits):
        raise ValueError(f"state {name}: ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch >= 1")
    return copy.deepcopy(batcher)


def _attach_batchers(program: Any, batchers: Mapping[tuple[str, ...], dict[str, Any]]) -> None:
    """Give each parsed Map's iteration component the ItemBatcher moto's grammar dropped."""
    for path, batcher in batchers.items():
        states = getattr(getattr(program, "states", None), "states", None)
        state = None
        for depth, name in enumerate(path):
            state = (states or {}).get(name)
            if state is None:
                raise ValueError(f"ItemBatcher of {'/'.join(path)}: no such state after parsing")
            if depth < len(path) - 1:
                component = getattr(state, "iteration_component", None)
                states = getattr(getattr(component, "_states", None), "states", None)
        component = getattr(state, "iteration_component", None)
        if component is None:
            raise ValueError(f"ItemBatcher of {'/'.join(path)}: not a Map state")
        component._rootwatch_item_batcher = batcher


def _patched_parse(original: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(definition: str) -> Any:
        try:
            document = json.loads(definition)
            batchers = item_batchers(document)
            localized = json.dumps(without_item_batchers(localize_definition(document)))
        except (ValueError, TypeError):
            batchers, localized = {}, definition  # not JSON: let moto report it as AWS would
        parsed = original(localized)
        if batchers:
            _attach_batchers(parsed[0], batchers)
        return parsed

    parse.__wrapped__ = original  # type: ignore[attr-defined]
    return parse


class _ScaledTime:
    """Stands in for the ``time`` module in moto's retrier: ``sleep`` honours :func:`retry_scale`."""

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * retry_scale())

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


TOLERANCE_EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
#: Step Functions' limit on one execution's input, which a batch must fit (MaxInputBytesPerBatch is capped there).
_MAX_BATCH_BYTES = 256 * 1024


def _template(value: Any, data: Any, context: Mapping[str, Any]) -> Any:
    """A JSONPath payload template (``"key.$": "$.path"`` / ``"$$.Context.path"``), as BatchInput takes it."""
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key.endswith(".$"):
                if not isinstance(item, str) or not item.startswith("$"):
                    raise ValueError(f"BatchInput {key}: the sandbox evaluates JSONPaths only, got {item!r}")
                source, path = (context, "$" + item[2:]) if item.startswith("$$") else (data, item)
                out[key[:-2]] = copy.deepcopy(extract_json(path, source))
            else:
                out[key] = _template(item, data, context)
        return out
    if isinstance(value, list):
        return [_template(item, data, context) for item in value]
    return value


def make_batches(items: list[Any], batcher: Mapping[str, Any], batch_input: Any = None) -> list[dict[str, Any]]:
    """Items grouped as a Distributed Map's ItemBatcher groups them: in order, each batch ``{"Items": [...]}``
    (plus ``"BatchInput"`` when the state has one) of at most ``MaxItemsPerBatch`` items and, when set,
    ``MaxInputBytesPerBatch`` bytes of JSON (a single larger item still gets a batch of its own)."""
    max_items = int(batcher.get("MaxItemsPerBatch") or 0) or len(items) or 1
    max_bytes = min(int(batcher.get("MaxInputBytesPerBatch") or _MAX_BATCH_BYTES), _MAX_BATCH_BYTES)

    def size(batch: list[Any]) -> int:
        body: dict[str, Any] = {"Items": batch}
        if batch_input is not None:
            body["BatchInput"] = batch_input
        return len(json.dumps(body, separators=(",", ":")).encode())

    batches: list[list[Any]] = []
    for item in items:
        if batches and len(batches[-1]) < max_items and size([*batches[-1], item]) <= max_bytes:
            batches[-1].append(item)
        else:
            batches.append([item])
    out = []
    for batch in batches:
        body = {"Items": batch}
        if batch_input is not None:
            body["BatchInput"] = copy.deepcopy(batch_input)
        out.append(body)
    return out


def _batched_map_run(original: Callable[..., Any]) -> Callable[..., Any]:
    """A Distributed Map with an ItemBatcher starts one child per batch, as AWS does; the Map Run's item counts
    stay per item (a failed child fails every item of its batch) and its execution counts per child."""

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        batcher = getattr(self, "_rootwatch_item_batcher", None)
        if batcher is None:
            original(self, env, eval_input)
            return
        items = env.stack.pop()
        batch_input = None
        if "BatchInput" in batcher:
            context = env.states.context_object.context_object_data
            batch_input = _template(batcher["BatchInput"], env.states.get_input(), context)
        batches = make_batches(list(items), batcher, batch_input)
        env.stack.append(batches)
        original(self, env, eval_input)
        outputs = env.stack[-1]
        counter = eval_input.map_run_record.item_counter
        extra = [len(batch["Items"]) - 1 for batch in batches]
        counter.total.offset(sum(extra))
        for output, more in zip(outputs, extra, strict=False):
            (counter.failed if output is None else counter.succeeded).offset(more)
            if output is not None:
                counter.results_written.offset(more)

    _map_run.__wrapped__ = original  # type: ignore[attr-defined]
    return _map_run


def _patched_map_run(original: Callable[..., Any]) -> Callable[..., Any]:
    """A Distributed Map fails with States.ExceedToleratedFailureThreshold, as in AWS, when too many items fail."""

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        original(self, env, eval_input)
        record = eval_input.map_run_record
        counter = record.item_counter
        failed = counter.failed.get() + counter.timed_out.get()
        total = counter.total.get()
        if failed == 0:
            return
        allowed_count = record.tolerated_failure_count or 0
        allowed_percentage = record.tolerated_failure_percentage or 0.0
        if failed <= allowed_count or (total and failed * 100.0 / total <= allowed_percentage):
            return
        from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEvent,
            FailureEventException,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
            StatesErrorNameType,
        )
        from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

        env.stack.pop()  # the outputs the original pushed: the Map fails instead
        error = StatesErrorNameType.StatesExceedToleratedFailureThreshold
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=error),
                event_type=HistoryEventType.ExecutionFailed,
                event_details=EventDetails(  # type: ignore[typeddict-item]
                    executionFailedEventDetails=ExecutionFailedEventDetails(
                        error=error.to_name(), cause=TOLERANCE_EXCEEDED_CAUSE
                    )
                ),
            )
        )

    _map_run.__wrapped__ = original  # type: ignore[attr-defined]
    return _map_run


def _patched_reflect_status(original: Callable[..., Any]) -> Callable[..., Any]:
    """Store an execution's output as plain JSON so DescribeExecution can serialize it (datetimes -> ISO-8601)."""

    def _reflect_execution_status(self: Any) -> None:
        original(self)
        output = self.execution.output
        if output is not None and not isinstance(output, str):
            from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

            self.execution.output = json.loads(to_json_str(output))

    _reflect_execution_status.__wrapped__ = original  # type: ignore[attr-defined]
    return _reflect_execution_status


def _has_environment(execution: Any) -> bool:
    worker = execution.exec_worker
    return worker is not None and getattr(worker, "env", None) is not None


def _patched_list_map_runs(original: Callable[..., Any]) -> Callable[..., Any]:
    """ListMapRuns right after StartExecution answers no runs yet (moto raises until the worker thread is up)."""

    def list_map_runs(self: Any, execution_arn: str) -> dict[str, Any]:
        if not _has_environment(self.describe_execution(execution_arn=execution_arn)):
            return {"mapRuns": []}
        return original(self, execution_arn)  # type: ignore[no-any-return]

    list_map_runs.__wrapped__ = original  # type: ignore[attr-defined]
    return list_map_runs


def _describe_map_run(self: Any, map_run_arn: str) -> dict[str, Any]:
    """DescribeMapRun that skips executions whose worker has not started (moto raises on them)."""
    from moto.stepfunctions.parser.api import ResourceNotFound

    for execution in self._get_executions():
        if not _has_environment(execution):
            continue
        record = execution.exec_worker.env.map_run_record_pool_manager.get(map_run_arn)
        if record is not None:
            return record.describe()  # type: ignore[no-any-return]
    raise ResourceNotFound(f"Map Run Does Not Exist: {map_run_arn}")


#: The session name of the state machine role's credentials (AWS uses a random one per execution).
_STATES_SESSION_NAME = uuid.uuid4().hex


def _patched_boto_client_for(original: Callable[..., Any]) -> Callable[..., Any]:
    """The interpreter's service calls (Lambda invoke, ItemReader/ResultWriter S3, ...) are made with the
    execution role's credentials, as Step Functions makes them, so the sandbox's IAM enforcement applies.

    moto makes them with fixed dummy keys (the default account, no role); that stays so when enforcement is off
    or the state has no role.
    """

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        from rootwatch_sandbox import iam_enforcement

        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn or not iam_enforcement.enabled():
            return original(region=region, service=service, state_credentials=state_credentials)
        try:
            key_id, secret, token = _role_credentials(role_arn, _STATES_SESSION_NAME, region)
        except Exception:  # a malformed role ARN: moto's own keys
            LOG.debug("could not assume the state machine role %r", role_arn, exc_info=True)
            return original(region=region, service=service, state_credentials=state_credentials)
        import boto3
        from botocore.config import Config
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port

        kwargs: dict[str, Any] = {}
        if not botocore_stubber.enabled:
            kwargs["endpoint_url"] = _endpoint_url or f"http://localhost:{moto_server_port()}"
        return boto3.client(  # type: ignore[call-overload]
            service_name=service,
            region_name=region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1}),
            **kwargs,
        )

    boto_client_for.__wrapped__ = original  # type: ignore[attr-defined]
    return boto_client_for


def _patched_lambda_client_error(original: Callable[..., Any]) -> Callable[..., Any]:
    """A Lambda API error that Invoke does not model (AccessDeniedException) reaches the state as
    ``Lambda.AWSLambdaException``, as AWS's Java SDK inside Step Functions reports it; the cause keeps the code."""

    def _error_cause_from_client_error(client_error: Any) -> tuple[str, str]:
        error, cause = original(client_error)
        if client_error.response.get("Error", {}).get("Code") == "AccessDeniedException":
            error = "Lambda.AWSLambdaException"
        return error, cause

    _error_cause_from_client_error.__wrapped__ = original  # type: ignore[attr-defined]
    return _error_cause_from_client_error


def _install_state_credentials() -> None:
    import sys

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_lambda
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    patched = _patched_boto_client_for(original)
    boto_client.boto_client_for = patched  # type: ignore[assignment]
    for module in list(sys.modules.values()):
        if module is not None and getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = patched  # type: ignore[attr-defined]
    lambda_task = state_task_service_lambda.StateTaskServiceLambda
    lambda_task._error_cause_from_client_error = staticmethod(  # type: ignore[method-assign,assignment]
        _patched_lambda_client_error(lambda_task._error_cause_from_client_error)
    )


class _DropToleranceWarning(logging.Filter):
    """moto warns that tolerance declarations have no effect; here they do."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "currently have no effect" not in record.getMessage()


class _DropStateFailureLog(logging.Filter):
    """moto logs every state failure (each retried throttle, each caught error) as an ERROR with the whole state's
    repr. Those are ordinary events of the execution, visible in its history, as in AWS; other errors still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        first = str(args[0]) if args else ""
        return not (record.msg == "%s at '%s'" and first.startswith("Exception=FailureEventException"))


# --------------------------------------------------------------------------------------------------------------------
# Installation


def install() -> None:
    """Patch moto's Lambda (and, on first use, Step Functions) for in-process handlers. Idempotent, thread-safe.

    moto's Step Functions interpreter takes about a second to import (it pulls in EC2, Batch, ...), so its patches
    are applied when moto first serves a Step Functions request, or by :func:`install_step_functions`.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        import boto3
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.stepfunctions import responses as sfn_responses

        _install_environ_overlay()
        LambdaSimpleBackend.invoke = _patched_invoke(LambdaSimpleBackend.invoke)  # type: ignore[method-assign]
        boto3._get_default_session = _patched_default_session(boto3._get_default_session)
        original_get_backend = sfn_responses.get_backend

        def get_backend(account: str, region: str) -> Any:
            install_step_functions()
            return original_get_backend(account, region)

        get_backend.__wrapped__ = original_get_backend  # type: ignore[attr-defined]
        sfn_responses.get_backend = get_backend
        _installed = True


def install_step_functions() -> None:
    """Patch moto's Step Functions interpreter (definition localization, retry scale, map tolerance, ...)."""
    global _sfn_installed
    if _sfn_installed:
        return
    with _install_lock:
        if _sfn_installed:
            return
        from moto.stepfunctions.parser import models as sfn_models
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
            distributed_iteration_component as distributed,
        )
        from moto.stepfunctions.parser.asl.parse import asl_parser
        from moto.stepfunctions.parser.backend import execution

        parser = asl_parser.AmazonStateLanguageParser
        parser.parse = staticmethod(_patched_parse(parser.parse))  # type: ignore[method-assign,assignment]
        retrier_decl.time = _ScaledTime()  # type: ignore[assignment]
        component = distributed.DistributedIterationComponent
        component._map_run = _patched_map_run(_batched_map_run(component._map_run))  # type: ignore[method-assign]
        communication = execution.BaseExecutionWorkerCommunication
        communication._reflect_execution_status = _patched_reflect_status(  # type: ignore[method-assign]
            communication._reflect_execution_status
        )
        backend = sfn_models.StepFunctionsParserBackend
        backend.list_map_runs = _patched_list_map_runs(backend.list_map_runs)  # type: ignore[method-assign]
        backend.describe_map_run = _describe_map_run  # type: ignore[method-assign]
        _install_state_credentials()
        logging.getLogger("moto.stepfunctions.parser.asl.parse.preprocessor").addFilter(_DropToleranceWarning())
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").addFilter(_DropStateFailureLog())
        _sfn_installed = True


__all__ = [
    "RETRY_SCALE_ENV",
    "InvocationResult",
    "LambdaContext",
    "function_environment",
    "install",
    "install_step_functions",
    "invoke_function",
    "item_batchers",
    "localize_definition",
    "make_batches",
    "retry_scale",
    "set_endpoint_url",
    "set_retry_scale",
    "without_item_batchers",
]
