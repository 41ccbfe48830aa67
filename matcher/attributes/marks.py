"""How one candidate compares with what the customer stated: one mark per attribute."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    # The attribute compared, as the catalog names it ("side", "fits", "years", "size").
    attribute: str
    # What the customer stated, as found in the text or the vehicle context ("right", "2016").
    stated: str
    # The candidate's value of that attribute ("left", "2012-2015").
    value: str
    agrees: bool

    @property
    def explanation(self) -> str:
        if self.agrees:
            return f"{self.attribute}: {self.value} (you asked for {self.stated})"
        return f"{self.attribute}: you asked for {self.stated}, this is {self.value}"
