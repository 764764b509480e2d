"""Request bodies schemathesis cannot make on its own, for scripts/fuzz-api.sh.

The CSV and XLSX uploads (`PUT …/entries.xlsx`, `POST /frameworks/import.csv`, …) take
spreadsheets: schemathesis draws them from these strategies, a few well-formed files and
arbitrary bytes (a zip that is no workbook, a CSV with any bytes), each of which the server
must answer with a 2xx or a 4xx problem, never a 5xx.
"""

import io
import zipfile

import schemathesis
from hypothesis import strategies as st


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


CSV = st.one_of(
    st.sampled_from(
        [
            "code,title,max_score,method\n1,Công tác chỉ đạo,10,manual\n".encode("utf-8-sig"),
            b"unit_code,criterion_code,value\nX,1.1,1\n",
            b"criterion_code,score\n1.1,2\n",
        ]
    ),
    st.binary(max_size=2048),
)
XLSX = st.one_of(
    st.sampled_from(
        [
            _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
            _zip({"xl/worksheets/sheet1.xml": b"<worksheet><sheetData/></worksheet>"}),
        ]
    ),
    st.binary(max_size=4096),
)

schemathesis.openapi.media_type("text/csv", CSV)
schemathesis.openapi.media_type(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", XLSX
)


@schemathesis.hook
def before_call(context, case, kwargs):
    """Headers are text. Schemathesis's inferred links can carry an integer from a response
    (an `id`) into a header parameter (`X-Request-Id`) and then fail to send the request at
    all ("must be of type str or bytes"): such a value is sent as its text."""
    if case.headers:
        for name, value in list(case.headers.items()):
            if not isinstance(value, (str, bytes)):
                case.headers[name] = str(value)
