"""A project's page on its registry, for the linkers: the registry's page template from its vocabulary file
(``projectLinkTemplate``, e.g. CAR and ART TREES on APX), else the operator profile's ``project.projectLink``
(ACR, whose former APX host is retired). ``{projectId}`` and ``{number}`` (the id without its letter prefix and
leading zeros) are replaced."""

from __future__ import annotations

from standards.cadt.operator import OperatorProfile
from standards.cadt.vocab import Vocabulary


def project_link(project_id: str, vocab: Vocabulary, operator: OperatorProfile | None) -> tuple[str, str] | None:
    """``(link, source)``: source is the vocabulary's ``<file> projectLinkTemplate``, or ``""`` when the link
    came from the operator profile; None when neither gives a template."""
    template = vocab.fact("projectLinkTemplate")
    source = f"{vocab.where} projectLinkTemplate"
    if template is None and operator is not None:
        template, source = operator.value("project", "projectLink"), ""
    if template is None or not project_id:
        return None
    number = project_id.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ").lstrip("0") or "0"
    return template.replace("{projectId}", project_id).replace("{number}", number), source
