"""Reads of the cases app: which cases a user may see, case pages, exports."""
