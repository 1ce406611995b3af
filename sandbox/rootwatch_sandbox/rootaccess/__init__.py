"""Centralized root access on top of moto: AssumeRoot, root users, task-policy scope, org features, faults.

Every moto request passes ``BaseResponse.call_action`` (S3 passes its own authorization hook
instead). :func:`install` puts one check in front of both:

1. a call made with root-session credentials must not be expired, must not hit an injected fault
   and must be an action its task policy allows (otherwise AWS's observed explicit-deny error);
2. a call made with an assumed-role session must be allowed by its role's identity policies
   (``iam_enforcement``; otherwise the service's own AccessDenied), then may hit an injected fault;
3. any other call may hit an injected fault for its account;
4. the operations moto lacks or gets wrong for root access are answered here (AssumeRoot,
   GetCallerIdentity of a root session, the root user's no-UserName IAM calls, the IAM
   organization features, ListAccounts pages of at most 20); everything else goes on to moto.

Root-session credentials map to the member account through ``get_current_account``, so every
moto service sees the member account, as moto does for ``assume_role`` credentials.

The modules, after moto's own split (state in rootwatch_sandbox.rootstate):

- :mod:`.exceptions`: the errors answered, with AWS's codes and wording;
- :mod:`.authorization`: the checks of points 1 to 3 (root sessions, faults, S3 and SQS accounts);
- :mod:`.responses`: the choke point (:func:`~.responses.intercept`) and which operations are answered here;
- :mod:`.sts`: AssumeRoot and a root session's GetCallerIdentity;
- :mod:`.root_user`: the root user's IAM calls;
- :mod:`.iam_features`: IAM's organization features;
- :mod:`.organizations`: who may read the org, ListAccounts paging;
- :mod:`.moto_patches`: installing all of it into moto (:func:`install`).
"""

from __future__ import annotations

from rootwatch_sandbox.rootaccess.moto_patches import install

__all__ = ["install"]
