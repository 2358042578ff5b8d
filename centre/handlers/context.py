"""What a handler works with: the database (this thread's connection), the settings, the request, the time."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from centre.errors import Refused
from centre.interface.envelope import RequestEnvelope, time_text
from centre.store import people
from centre.store.engine import Database
from centre.store.people import Person

if TYPE_CHECKING:
    from centre.rules.regional import RegionalRules
    from centre.settings import CentreSettings


@dataclass
class Ctx:
    db: Database
    settings: "CentreSettings"
    env: RequestEnvelope
    now: dt.datetime

    @property
    def at(self) -> str:
        """This transaction's time, yyyy-MM-dd HH:mm:ss in the centre's clock."""
        return time_text(self.now)

    @property
    def today(self) -> str:
        return self.now.date().isoformat()

    def new_id(self, prefix: str) -> str:
        """A new id (setl_id, mdtrt_id ...): prefix + the area + time + random, unique across processes."""
        return f"{prefix}{self.env.mdtrtarea_admvs}{self.now.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(4).upper()}"

    def person(self, psn_no: str) -> Person:
        """The person an input names; their insured area must be the envelope's `insuplc_admdvs`."""
        found = people.person(self.db, psn_no=psn_no)
        if found is None:
            raise Refused("person_unknown", f"no insured person {psn_no}", f"人员编号{psn_no}不存在")
        if self.env.insuplc_admdvs and self.env.insuplc_admdvs != found.insuplc_admdvs:
            raise Refused("insuplc_mismatch",
                          f"insuplc_admdvs {self.env.insuplc_admdvs} is not {psn_no}'s insured area "
                          f"({found.insuplc_admdvs}): take it from 1101",
                          f"参保地医保区划{self.env.insuplc_admdvs}与人员{psn_no}的参保地{found.insuplc_admdvs}不符"
                          "(请以1101返回为准)")
        return found

    def regional(self, admdvs: str) -> "RegionalRules":
        """The mutual-aid rules in force for an insured area: its region_rule lines, else the config's defaults."""
        from centre.rules.regional import resolve
        return resolve(admdvs, people.region_rules(self.db, admdvs), self.settings.mutual_aid.regional_defaults())

    def hosp_lv(self) -> str:
        from centre.store.visits import hosp_lv
        return hosp_lv(self.db, self.env.fixmedins_code) or self.settings.default_hosp_lv
