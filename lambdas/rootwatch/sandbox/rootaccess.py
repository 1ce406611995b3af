"""Centralized root access on top of moto (AssumeRoot, root users, task-policy scope, org features)."""


def install() -> None:
    """Patch moto's STS, IAM and Organizations responses. Idempotent."""
