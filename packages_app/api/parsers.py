"""Request bodies of the metadata API: JSON only.

DRF's form parsers would spool uploaded files to disk, and the API takes no
forms. The JSON body is read through ``request.body``, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE bounds it (answered 413 by
``problems.problem_exception_handler``); JSON nested deeper than the parser
can follow is answered 400 like any other malformed JSON, not 500.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with deep nesting a parse error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
