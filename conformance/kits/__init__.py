"""carbonlink's built-in conformance kits, each registered under the ``carbonlink.conformance_kits``
entry-point group exactly as a third-party kit is."""
