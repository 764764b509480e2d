// The main flow of a front end, written against the generated types only (no casts):
// log in, find Vĩnh Long, read the district ranking and its index, its overdue remediation
// items, and download its appendix as CSV and XLSX. Run by scripts/check-clients.sh
// against the demo district; exits non-zero on the first surprise.
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
  const district = me.data.unit_id;
  check(district !== null, "the appraiser belongs to a unit");

  const units = await api.GET("/api/v1/units", {
    params: { query: { q: "Vĩnh Long", parent_id: district } },
  });
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

  for (const format of ["csv", "xlsx"] as const) {
    const file = await api.GET("/api/v1/units/{id}/appendix", {
      params: { path: { id: vinhLong.id }, query: { year: 2023, format } },
      parseAs: "arrayBuffer",
    });
    check(file.data !== undefined, `appendix ${format}`);
    writeFileSync(join(outDir, `appendix.${format}`), new Uint8Array(file.data));
  }
  console.log(
    `TypeScript client: ${vinhLong.name} index ${seed.index}, rank ${row.rank}/${seed.ranked_units}; ` +
      `${overdue.data.items.length} items overdue on 2024-02-15; appendix downloaded`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
