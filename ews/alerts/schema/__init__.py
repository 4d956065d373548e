"""The OASIS CAP 1.2 XML schema, shipped with the package (see NOTICE.md)."""
