"""Path convertors with bounds: a variant number of 5,000 digits is a 404, not a 500.

Starlette's ``{number:int}`` matches any run of digits and converts it with ``int()``, which raises
past Python's 4,300-digit conversion limit — inside routing, before any handler can refuse it, so
the client got a 500. ``{number:variant_number}`` matches at most six digits; anything longer
matches no route and is answered 404 like any other unknown page.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

VARIANT_NUMBER = "variant_number"


class VariantNumber(Convertor[int]):
    regex = "[0-9]{1,6}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor(VARIANT_NUMBER, VariantNumber())
