"""The synthesized stack, deployed into the sandbox: ``infra/``'s template, not a copy of it.

``synthesize(context)`` (or ``load_assembly("cdk.out")``) gives the cloud assembly; ``deploy_assembly(assembly)``
publishes its assets and creates (or updates in place) every resource the sandbox emulates, in dependency
order, resolving the template's intrinsics. See docs/sandbox.md, "Deploying the synthesized stack".
"""

from rootwatch_sandbox.cloudformation.assembly import AssemblyError, CloudAssembly, load_assembly, synthesize
from rootwatch_sandbox.cloudformation.deployer import DeployError, StackDeployment, deploy_assembly
from rootwatch_sandbox.cloudformation.intrinsics import TemplateError
from rootwatch_sandbox.cloudformation.resources import HANDLERS

__all__ = [
    "HANDLERS",
    "AssemblyError",
    "CloudAssembly",
    "DeployError",
    "StackDeployment",
    "TemplateError",
    "deploy_assembly",
    "load_assembly",
    "synthesize",
]
