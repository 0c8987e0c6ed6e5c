"""carbonlink conformance suite: versioned kits, coded findings, reports and certificates."""
