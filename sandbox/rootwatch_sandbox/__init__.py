"""The sandbox: moto plus centralized root access, the project's local AWS (docs/sandbox.md).

    from rootwatch_sandbox import Sandbox
    with Sandbox() as sandbox:          # in-process: boto3 calls in this process hit the emulator
        sandbox.create_demo_org(accounts=10, seed=1)

The seeding and fault API is the same in-process (methods of ``Sandbox``) and over HTTP on a server
(``POST /_rootwatch/...``).
"""

from rootwatch_sandbox.core import MANAGEMENT_ACCOUNT_ID, Sandbox

__all__ = ["MANAGEMENT_ACCOUNT_ID", "Sandbox"]
