"""Use cases behind the Lambda handlers and the CLI (handlers -> services -> adapters -> AWS)."""
