"""The main flow of a front end, written against the generated Python client only.

The same steps as clients/ts/flow.ts: log in, find Vĩnh Long, read the district ranking and
its index, its overdue remediation items, download its appendix as CSV and XLSX and the
ranking as CSV, read a merged commune's index with its predecessors, upload a workbook (a
framework exported as XLSX, imported again); then read Vĩnh Long's evidence files, and as its
officer upload one (multipart) and read it back. Run by scripts/check-clients.sh against the
demo district after its 2025 reorganisation (the generated package `parindex_client` on
PYTHONPATH); exits non-zero on the first surprise. Type-checked with mypy --strict.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import sys
from pathlib import Path
from typing import TypeVar

from parindex_client import AuthenticatedClient, Client
from parindex_client.api.auth import get_me, login
from parindex_client.api.evidence_files import download_evidence_file, list_evidence_files, upload_evidence_file
from parindex_client.api.remediation import get_remediation_item, list_remediation_items
from parindex_client.api.frameworks import export_framework_xlsx, import_framework_xlsx, list_frameworks
from parindex_client.api.results import (
    export_ranking_csv,
    export_unit_appendix_csv,
    export_unit_appendix_xlsx,
    get_ranking,
    get_unit_index,
)
from parindex_client.api.units import list_units
from parindex_client.models import (
    EvidenceFileResponse,
    FrameworkResponse,
    EvidenceUpload,
    ItemListResponse,
    ItemResponse,
    LoginRequest,
    OfficerRole,
    PageEvidenceFileResponse,
    PageFrameworkSummary,
    PageUnitResponse,
    PreviousYear,
    RankingResponse,
    TokenResponse,
    UnitIndexResponse,
    UnitKind,
    UserResponse,
)
from parindex_client.types import File

BASE_URL = os.environ.get("PARINDEX_URL", "http://127.0.0.1:8080")
PASSWORD = os.environ.get("PARINDEX_DEMO_PASSWORD", "demo-password-2023")
OUT_DIR = Path(os.environ.get("DOWNLOADS_DIR", "."))

T = TypeVar("T")


class CheckFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(f"check failed: {what}")


def expect(value: object, kind: type[T], what: str) -> T:
    """The parsed body when it is of the success type (not a Problem, not None)."""
    if not isinstance(value, kind):
        raise CheckFailed(f"check failed: {what}: got {value!r}")
    return value


def present(value: T | None, what: str) -> T:
    if value is None:
        raise CheckFailed(f"check failed: {what}")
    return value


def main() -> None:
    anonymous = Client(base_url=BASE_URL, raise_on_unexpected_status=True)
    token = expect(
        login.sync(client=anonymous, body=LoginRequest(username="vinhlinh.thamdinh", password=PASSWORD)),
        TokenResponse,
        "login",
    )
    api = AuthenticatedClient(base_url=BASE_URL, token=token.access_token, raise_on_unexpected_status=True)

    me = expect(get_me.sync(client=api), UserResponse, "me")
    province = expect(me.unit_id, int, "the appraiser belongs to a unit")

    # The district was abolished in 2025: kept, inactive, with its history.
    districts = expect(list_units.sync(client=api, q="Vĩnh Linh", kind=UnitKind.DISTRICT), PageUnitResponse, "districts")
    district = present(
        next((u.id for u in districts.items if u.name.startswith("Huyện Vĩnh Linh")), None), "Huyện Vĩnh Linh"
    )
    units = expect(list_units.sync(client=api, q="Vĩnh Long"), PageUnitResponse, "units")
    vinh_long = present(next((u for u in units.items if u.name == "Xã Vĩnh Long"), None), "Xã Vĩnh Long is listed")

    ranking = expect(
        get_ranking.sync(client=api, parent_unit_id=district, year=2023), RankingResponse, "ranking"
    )
    row = present(next((r for r in ranking.items if r.unit_id == vinh_long.id), None), "Vĩnh Long is ranked")
    check(row.rank == 11, f"Vĩnh Long ranks 11th, got {row.rank}")

    seed = expect(get_unit_index.sync(vinh_long.id, client=api, year=2023), UnitIndexResponse, "unit index")
    check(seed.index == "88.25", f"index 88.25, got {seed.index}")
    previous = expect(seed.previous, PreviousYear, "2022 figures")
    check(previous.rank == 8, f"2022 rank 8, got {previous.rank}")

    overdue = expect(
        list_remediation_items.sync(
            client=api, unit_id=vinh_long.id, overdue=True, as_of=datetime.date(2024, 2, 15)
        ),
        ItemListResponse,
        "overdue items",
    )
    first = present(
        next((i for i in overdue.items if i.criterion_code == "1.4.1"), None), "1.4.1 is overdue on 2024-02-15"
    )
    item = expect(get_remediation_item.sync(first.id, client=api), ItemResponse, "remediation item")
    lead = present(next((o for o in item.officers if o.role == OfficerRole.LEAD), None), "1.4.1 has a lead")
    check(lead.full_name == "Trần Văn Đoàn", f"1.4.1's lead is Trần Văn Đoàn, got {lead.full_name}")
    check(
        len(item.milestones) > 0 and item.milestones[0].due_on == datetime.date(2024, 1, 31),
        "1.4.1 is due 31/01/2024",
    )

    # One path per media type: the appendix as CSV and as XLSX, the ranking as CSV.
    csv = expect(export_unit_appendix_csv.sync(vinh_long.id, client=api, year=2023), File, "appendix.csv")
    (OUT_DIR / "appendix.csv").write_bytes(csv.payload.read())
    xlsx = expect(export_unit_appendix_xlsx.sync(vinh_long.id, client=api, year=2023), File, "appendix.xlsx")
    (OUT_DIR / "appendix.xlsx").write_bytes(xlsx.payload.read())
    ranking_csv = expect(
        export_ranking_csv.sync(client=api, parent_unit_id=district, year=2023), File, "rankings/export.csv"
    )
    (OUT_DIR / "ranking.csv").write_bytes(ranking_csv.payload.read())

    # A commune merged in 2025: its index lists the old communes with their weights.
    communes = expect(list_units.sync(client=api, q="Vĩnh Linh", kind=UnitKind.COMMUNE), PageUnitResponse, "communes")
    vinh_linh = present(next((u for u in communes.items if u.name == "Xã Vĩnh Linh"), None), "Xã Vĩnh Linh")
    merged = expect(get_unit_index.sync(vinh_linh.id, client=api, year=2025), UnitIndexResponse, "merged index")
    check(len(merged.predecessors) == 5, f"5 predecessors, got {len(merged.predecessors)}")
    check(all(p.weight == "1.00" for p in merged.predecessors), "equal weights, as scores")

    # A workbook upload: the 2023 framework as XLSX, imported as a new draft.
    frameworks = expect(list_frameworks.sync(client=api, year=2023), PageFrameworkSummary, "frameworks")
    framework = present(next(iter(frameworks.items), None), "the 2023 framework")
    workbook = expect(export_framework_xlsx.sync(framework.id, client=api), File, "export.xlsx")
    imported = expect(
        import_framework_xlsx.sync(
            client=api,
            body=File(payload=io.BytesIO(workbook.payload.read()), file_name="bo-tieu-chi.xlsx"),
            year=2032,
            name="Bộ tiêu chí (Python)",
            owner_unit_id=province,
        ),
        FrameworkResponse,
        "import.xlsx",
    )
    check(len(imported.criteria) > 0, "the imported framework has criteria")

    evidence = expect(
        list_evidence_files.sync(client=api, unit_id=vinh_long.id, year=2023),
        PageEvidenceFileResponse,
        "Vĩnh Long's evidence files",
    )
    check(len(evidence.items) == 3, f"Vĩnh Long has 3 evidence files for 2023, got {len(evidence.items)}")
    pdf = expect(download_evidence_file.sync(evidence.items[0].id, client=api), File, "an evidence file")
    check(pdf.payload.read(5) == b"%PDF-", "the evidence file is a PDF")

    officer_token = expect(
        login.sync(client=anonymous, body=LoginRequest(username="vinhlong.vanphong", password=PASSWORD)),
        TokenResponse,
        "officer login",
    )
    officer = AuthenticatedClient(base_url=BASE_URL, token=officer_token.access_token, raise_on_unexpected_status=True)
    content = b"%PDF-1.4\n% uploaded by the generated Python client\n%%EOF\n"
    stored = expect(
        upload_evidence_file.sync(
            client=officer,
            body=EvidenceUpload(
                unit_id=vinh_long.id,
                file=File(payload=io.BytesIO(content), file_name="Báo cáo bổ sung.pdf", mime_type="application/pdf"),
            ),
        ),
        EvidenceFileResponse,
        "upload",
    )
    check(stored.sha256 == hashlib.sha256(content).hexdigest(), "the stored sha256 is the content's")
    check(stored.filename == "Báo cáo bổ sung.pdf", f"the Vietnamese filename is kept, got {stored.filename}")
    back = expect(download_evidence_file.sync(stored.id, client=officer), File, "the uploaded file")
    check(back.payload.read() == content, "the uploaded file comes back byte-identical")

    print(
        f"Python client: {vinh_long.name} index {seed.index}, rank {row.rank}/{seed.ranked_units}; "
        f"{len(overdue.items)} items overdue on 2024-02-15; appendix and ranking downloaded; "
        f"{vinh_linh.name} merged from {len(merged.predecessors)}; a workbook imported as framework {imported.id}; "
        f"{len(evidence.items)} evidence files read, one uploaded and read back"
    )


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as error:
        print(error, file=sys.stderr)
        sys.exit(1)
