// The main flow of a front end, written against the generated types only (no casts):
// log in, find Vĩnh Long, read the district ranking and its index, its overdue remediation
// items, download its appendix as CSV and XLSX and the ranking as CSV, read a merged
// commune's index with its predecessors, and upload a workbook (a framework exported as
// XLSX, imported again). Run by scripts/check-clients.sh against the demo district after
// its 2025 reorganisation; exits non-zero on the first surprise.
import createClient from "openapi-fetch";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { components, paths } from "../generated/schema.js";

type UnitIndex = components["schemas"]["UnitIndexResponse"];

const baseUrl = process.env.PARINDEX_URL ?? "http://127.0.0.1:8080";
const password = process.env.PARINDEX_DEMO_PASSWORD ?? "demo-password-2023";
const outDir = process.env.DOWNLOADS_DIR ?? ".";

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`check failed: ${what}`);
  }
}

async function main(): Promise<void> {
  const anonymous = createClient<paths>({ baseUrl });
  const login = await anonymous.POST("/api/v1/auth/login", {
    body: { username: "vinhlinh.thamdinh", password },
  });
  check(login.data !== undefined, `login: ${JSON.stringify(login.error)}`);
  const api = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${login.data.access_token}` },
  });

  const me = await api.GET("/api/v1/auth/me");
  check(me.data !== undefined, "me");
  const province = me.data.unit_id;
  check(province !== null, "the appraiser belongs to a unit");

  // The district was abolished in 2025: kept, inactive, with its history.
  const districts = await api.GET("/api/v1/units", {
    params: { query: { q: "Vĩnh Linh", kind: "district" } },
  });
  check(districts.data !== undefined, "districts");
  const district = districts.data.items.find((u) => u.name.startsWith("Huyện Vĩnh Linh"))?.id;
  check(district !== undefined, "Huyện Vĩnh Linh is listed");

  const units = await api.GET("/api/v1/units", { params: { query: { q: "Vĩnh Long" } } });
  check(units.data !== undefined, "units");
  const vinhLong = units.data.items.find((u) => u.name === "Xã Vĩnh Long");
  check(vinhLong !== undefined, "Xã Vĩnh Long is listed");

  const ranking = await api.GET("/api/v1/rankings", {
    params: { query: { parent_unit_id: district, year: 2023 } },
  });
  check(ranking.data !== undefined, "ranking");
  const row = ranking.data.items.find((r) => r.unit_id === vinhLong.id);
  check(row !== undefined && row.rank === 11, "Vĩnh Long ranks 11th");

  const index = await api.GET("/api/v1/units/{id}/index", {
    params: { path: { id: vinhLong.id }, query: { year: 2023 } },
  });
  check(index.data !== undefined, "unit index");
  const seed: UnitIndex = index.data;
  check(seed.index === "88.25", `index 88.25, got ${seed.index}`);
  check(seed.previous !== null && seed.previous.rank === 8, "2022 rank 8");

  const overdue = await api.GET("/api/v1/remediation-items", {
    params: { query: { unit_id: vinhLong.id, overdue: true, as_of: "2024-02-15" } },
  });
  check(overdue.data !== undefined, "overdue items");
  const first = overdue.data.items.find((i) => i.criterion_code === "1.4.1");
  check(first !== undefined, "1.4.1 is overdue on 2024-02-15");
  const item = await api.GET("/api/v1/remediation-items/{id}", {
    params: { path: { id: first.id } },
  });
  check(item.data !== undefined, "remediation item");
  const lead = item.data.officers.find((o) => o.role === "lead");
  check(lead !== undefined && lead.full_name === "Trần Văn Đoàn", "1.4.1's lead");
  check(item.data.milestones[0]?.due_on === "2024-01-31", "1.4.1 is due 31/01/2024");

  // One path per media type: the appendix as CSV and as XLSX, the ranking as CSV.
  const appendix = { path: { id: vinhLong.id }, query: { year: 2023 } };
  const csv = await api.GET("/api/v1/units/{id}/appendix.csv", { params: appendix, parseAs: "arrayBuffer" });
  check(csv.data !== undefined, "appendix.csv");
  writeFileSync(join(outDir, "appendix.csv"), new Uint8Array(csv.data));
  const xlsx = await api.GET("/api/v1/units/{id}/appendix.xlsx", { params: appendix, parseAs: "arrayBuffer" });
  check(xlsx.data !== undefined, "appendix.xlsx");
  writeFileSync(join(outDir, "appendix.xlsx"), new Uint8Array(xlsx.data));
  const rankingCsv = await api.GET("/api/v1/rankings/export.csv", {
    params: { query: { parent_unit_id: district, year: 2023 } },
    parseAs: "arrayBuffer",
  });
  check(rankingCsv.data !== undefined, "rankings/export.csv");
  writeFileSync(join(outDir, "ranking.csv"), new Uint8Array(rankingCsv.data));

  // A commune merged in 2025: its index lists the old communes with their weights.
  const merged = await api.GET("/api/v1/units", { params: { query: { q: "Vĩnh Linh", kind: "commune" } } });
  check(merged.data !== undefined, "merged communes");
  const vinhLinh = merged.data.items.find((u) => u.name === "Xã Vĩnh Linh");
  check(vinhLinh !== undefined, "Xã Vĩnh Linh is listed");
  const mergedIndex = await api.GET("/api/v1/units/{id}/index", {
    params: { path: { id: vinhLinh.id }, query: { year: 2025 } },
  });
  check(mergedIndex.data !== undefined, "the merged commune's index");
  const predecessors = mergedIndex.data.predecessors;
  check(predecessors.length === 5, `5 predecessors, got ${predecessors.length}`);
  check(predecessors.every((p) => p.weight === "1.00"), "equal weights, as scores");

  // A workbook upload: the 2023 framework as XLSX, imported as a new draft.
  const frameworks = await api.GET("/api/v1/frameworks", { params: { query: { year: 2023 } } });
  const framework = frameworks.data?.items[0];
  check(framework !== undefined, "the 2023 framework");
  const exported = await api.GET("/api/v1/frameworks/{id}/export.xlsx", {
    params: { path: { id: framework.id } },
    parseAs: "arrayBuffer",
  });
  check(exported.data !== undefined, "framework export.xlsx");
  const workbook = exported.data;
  const imported = await api.POST("/api/v1/frameworks/import.xlsx", {
    params: { query: { year: 2031, name: "Bộ tiêu chí (TypeScript)", owner_unit_id: province } },
    // The body is typed as the file's text (`format: binary`); the bytes are sent as they are.
    body: "",
    bodySerializer: () => workbook,
    headers: { "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
  });
  check(imported.data !== undefined, `import.xlsx: ${JSON.stringify(imported.error)}`);
  check(imported.data.criteria.length > 0, "the imported framework has criteria");

  console.log(
    `TypeScript client: ${vinhLong.name} index ${seed.index}, rank ${row.rank}/${seed.ranked_units}; ` +
      `${overdue.data.items.length} items overdue on 2024-02-15; appendix and ranking downloaded; ` +
      `${vinhLinh.name} merged from ${predecessors.length}; a workbook imported as framework ${imported.data.id}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
