"""Step Functions on moto's interpreter: the patches :func:`install_step_functions` applies (moto 5.2.5).

- **Definitions are localized** before moto parses them (rootwatch_sandbox.runtime.definitions), so the
  definition deployed to AWS is the one the sandbox runs.
- **Retry waits can be scaled down** (rootwatch_sandbox.runtime.settings.set_retry_scale, or
  ``ROOTWATCH_SANDBOX_RETRY_SCALE``).
- **A Distributed Map batches its items** (``ItemBatcher``: one child per ``{"Items", "BatchInput"}`` batch),
  which moto 5.2.5 cannot parse.
- **A Distributed Map enforces its failure tolerance** (moto ignores it and turns a failed item into null),
  an execution output that holds datetimes no longer crashes DescribeExecution, and ListMapRuns right after
  StartExecution answers instead of raising.
- **The state machine's own calls** (Lambda invoke, ItemReader/ResultWriter S3) are made with credentials of
  its role, so the sandbox's IAM enforcement holds it to that role's policies; a Lambda AccessDeniedException
  reaches the state as ``Lambda.AWSLambdaException``, as in AWS.

moto's interpreter takes about a second to import, so :func:`install_on_first_request` defers these patches to
the first Step Functions request moto serves.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from rootwatch_sandbox.runtime.definitions import (
    item_batchers,
    localize_definition,
    make_batches,
    without_item_batchers,
)
from rootwatch_sandbox.runtime.role_sessions import role_credentials
from rootwatch_sandbox.runtime.settings import handler_endpoint_url, retry_scale

LOG = logging.getLogger(__name__)

_install_lock = threading.Lock()
_installed = False


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
            key_id, secret, token = role_credentials(role_arn, _STATES_SESSION_NAME, region)
        except Exception:  # a malformed role ARN: moto's own keys
            LOG.debug("could not assume the state machine role %r", role_arn, exc_info=True)
            return original(region=region, service=service, state_credentials=state_credentials)
        import boto3
        from botocore.config import Config

        kwargs: dict[str, Any] = {}
        endpoint = handler_endpoint_url()  # None when moto's in-process mock intercepts the calls
        if endpoint is not None:
            kwargs["endpoint_url"] = endpoint
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


def install_on_first_request() -> None:
    """Apply :func:`install_step_functions` when moto first serves a Step Functions request.

    Once per process: rootwatch_sandbox.runtime.install calls it.
    """
    from moto.stepfunctions import responses as sfn_responses

    original_get_backend = sfn_responses.get_backend

    def get_backend(account: str, region: str) -> Any:
        install_step_functions()
        return original_get_backend(account, region)

    get_backend.__wrapped__ = original_get_backend  # type: ignore[attr-defined]
    sfn_responses.get_backend = get_backend


def install_step_functions() -> None:
    """Patch moto's Step Functions interpreter (definition localization, retry scale, map tolerance, ...)."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
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
        _installed = True
