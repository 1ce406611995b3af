"""Lambda without Docker (handlers run in-process) and Step Functions execution on moto."""


def install() -> None:
    """Patch moto's Lambda backend to dispatch to in-process Python handlers. Idempotent."""
