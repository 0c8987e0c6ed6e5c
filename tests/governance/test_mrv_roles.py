"""The MRV roles in the directory: an MRV system sends monitoring reports and issuance requests, a verifier
verification statements, both may upload evidence; a registry operator takes the three and answers with notices."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.protocol import MessageKind
from gateway.trust.directory import Participant
from tests.governance.support import entry


def test_what_each_mrv_role_sends() -> None:
    mrv = Participant.model_validate(entry("mrv", "CHE", roles=[{"role": "mrv-system"}]))
    assert set(mrv.message_kinds) == {MessageKind.MONITORING_REPORTS, MessageKind.ISSUANCE_REQUESTS}
    assert {"messages:send", "mrv:evidence"} <= set(mrv.scopes)
    verifier = Participant.model_validate(entry("vvb", "CHE", roles=[{"role": "verifier",
                                                                      "sectors": ["Energy generation"]}]))
    assert verifier.message_kinds == [MessageKind.VERIFICATIONS]
    assert {"messages:send", "mrv:evidence"} <= set(verifier.scopes)
    registry = Participant.model_validate(entry("reg", "CHE", roles=[{"role": "registry-operator"}]))
    assert {MessageKind.MONITORING_REPORTS, MessageKind.VERIFICATIONS, MessageKind.ISSUANCE_REQUESTS,
            MessageKind.ISSUANCE_NOTICES, MessageKind.TRANSFERS} <= set(registry.message_kinds)


def test_a_verifier_cannot_list_report_kinds() -> None:
    with pytest.raises(ValidationError, match="not allowed by the participant's roles"):
        Participant.model_validate(entry("vvb", "CHE", roles=[{"role": "verifier", "sectors": ["Agriculture"]}],
                                         message_kinds=["monitoring-reports"]))
