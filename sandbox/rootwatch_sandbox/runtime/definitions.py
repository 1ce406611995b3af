"""Step Functions definitions as the sandbox runs them: localized for moto's grammar, Map ItemBatchers.

Pure functions of the definition (no moto state): :func:`localize_definition` rewrites what moto 5.2.5 cannot
parse into what it can, with the same meaning; :func:`item_batchers` and :func:`without_item_batchers` take a
Distributed Map's ``ItemBatcher`` out (moto's grammar has none) for the parse patch in
rootwatch_sandbox.runtime.stepfunctions_patches to give back; :func:`make_batches` groups items as AWS does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

#: Step Functions' limit on one execution's input, which a batch must fit (MaxInputBytesPerBatch is capped there).
_MAX_BATCH_BYTES = 256 * 1024


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
