"""Operator actions around the audit (issue 6): doctor, enable, remediate, unlock.

Services here take a ``ClientFactory`` (and any other adapter) as arguments and return plain result
objects; the CLI verbs in ``rootwatch_cli.commands`` only parse flags, confirm and render. Every root
session opened here asks for the narrowest task policy that can do the job, and its credentials never
leave ``rootwatch.aws.clients.RootSession``.
"""
