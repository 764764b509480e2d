"""The flow through the Python client openapi-generator generates (package `parindex_oag`).

Log in, download the district ranking as CSV, read a merged commune's index with its
predecessors (pydantic validates every response against the document's types), and upload a
workbook (the 2023 framework exported as XLSX, imported as a new draft). Run by
scripts/check-clients.sh against the demo district after its 2025 reorganisation (the
generated package on PYTHONPATH); exits non-zero on the first surprise.
"""

from __future__ import annotations

import os
from pathlib import Path

import parindex_oag
from parindex_oag.api.auth_api import AuthApi
from parindex_oag.api.frameworks_api import FrameworksApi
from parindex_oag.api.results_api import ResultsApi
from parindex_oag.api.units_api import UnitsApi
from parindex_oag.models.login_request import LoginRequest
from parindex_oag.models.unit_kind import UnitKind

BASE_URL = os.environ.get("PARINDEX_URL", "http://127.0.0.1:8080")
PASSWORD = os.environ.get("PARINDEX_DEMO_PASSWORD", "demo-password-2023")
OUT_DIR = Path(os.environ.get("DOWNLOADS_DIR", "."))


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"check failed: {what}")


def main() -> None:
    config = parindex_oag.Configuration(host=BASE_URL)
    with parindex_oag.ApiClient(config) as anonymous:
        token = AuthApi(anonymous).login(LoginRequest(username="vinhlinh.thamdinh", password=PASSWORD))
    config.access_token = token.access_token
    with parindex_oag.ApiClient(config) as api:
        me = AuthApi(api).get_me()
        province = me.unit_id
        check(province is not None, "the appraiser belongs to a unit")
        assert province is not None

        units = UnitsApi(api)
        districts = units.list_units(q="Vĩnh Linh", kind=UnitKind.DISTRICT)
        district = next((u.id for u in districts.items if u.name.startswith("Huyện Vĩnh Linh")), None)
        check(district is not None, "Huyện Vĩnh Linh is listed")
        assert district is not None
        ranking = ResultsApi(api).export_ranking_csv(parent_unit_id=district, year=2023)
        (OUT_DIR / "ranking.csv").write_bytes(bytes(ranking))

        communes = units.list_units(q="Vĩnh Linh", kind=UnitKind.COMMUNE)
        vinh_linh = next((u for u in communes.items if u.name == "Xã Vĩnh Linh"), None)
        check(vinh_linh is not None, "Xã Vĩnh Linh is listed")
        assert vinh_linh is not None
        index = ResultsApi(api).get_unit_index(vinh_linh.id, year=2025)
        check(len(index.predecessors) == 5, f"5 predecessors, got {len(index.predecessors)}")
        check(all(p.weight == "1.00" for p in index.predecessors), "equal weights, as scores")

        frameworks = FrameworksApi(api)
        listed = frameworks.list_frameworks(year=2023)
        check(len(listed.items) > 0, "the 2023 framework")
        workbook = frameworks.export_framework_xlsx(listed.items[0].id)
        imported = frameworks.import_framework_xlsx(
            year=2034, name="Bộ tiêu chí (openapi-generator)", owner_unit_id=province, body=bytes(workbook)
        )
        check(len(imported.criteria) > 0, "the imported framework has criteria")

    print(
        f"openapi-generator Python client: ranking downloaded; {vinh_linh.name} merged from "
        f"{len(index.predecessors)}; a workbook imported as framework {imported.id}"
    )


if __name__ == "__main__":
    main()
