"""carbonlink standards: the canonical model, UNFCCC AEF, CAD Trust and coded validation."""
