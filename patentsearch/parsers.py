"""The API's JSON parser: DRF's, with a body nested too deeply to decode refused as a parse error.

Python's decoder raises RecursionError, not ValueError, at a few thousand levels of ``[`` or
``{"a":`` (a body of some kilobytes); DRF turns only ValueError into its 400, so the rest was a 500.
"""

from __future__ import annotations

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):  # noqa: ANN001, ANN201
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from exc
