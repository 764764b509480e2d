// The flow through the SDK that @hey-api/openapi-ts generates (clients/generated/hey-api):
// log in, download the district ranking as CSV, read a merged commune's index with its
// predecessors, and upload a workbook (the 2023 framework exported as XLSX, imported as a new
// draft). Typed by the generated code only (no casts). Run by scripts/check-clients.sh
// against the demo district after its 2025 reorganisation; exits non-zero on a surprise.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { client } from "../generated/hey-api/client.gen.js";
import {
  exportFrameworkXlsx,
  exportRankingCsv,
  getMe,
  getUnitIndex,
  importFrameworkXlsx,
  listFrameworks,
  listUnits,
  login,
} from "../generated/hey-api/sdk.gen.js";

const baseUrl = process.env.PARINDEX_URL ?? "http://127.0.0.1:8080";
const password = process.env.PARINDEX_DEMO_PASSWORD ?? "demo-password-2023";
const outDir = process.env.DOWNLOADS_DIR ?? ".";

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`check failed: ${what}`);
  }
}

async function main(): Promise<void> {
  client.setConfig({ baseUrl });
  const session = await login({ body: { username: "vinhlinh.thamdinh", password } });
  check(session.data !== undefined, `login: ${JSON.stringify(session.error)}`);
  const token = session.data.access_token;
  client.setConfig({ baseUrl, auth: () => token });

  const me = await getMe();
  check(me.data !== undefined, "me");
  const province = me.data.unit_id;
  check(province !== null, "the appraiser belongs to a unit");

  const districts = await listUnits({ query: { q: "Vĩnh Linh", kind: "district" } });
  const district = districts.data?.items.find((u) => u.name.startsWith("Huyện Vĩnh Linh"))?.id;
  check(district !== undefined, "Huyện Vĩnh Linh is listed");
  const ranking = await exportRankingCsv({
    query: { parent_unit_id: district, year: 2023 },
    parseAs: "blob",
  });
  check(ranking.data !== undefined, "rankings/export.csv");
  writeFileSync(join(outDir, "ranking.csv"), new Uint8Array(await ranking.data.arrayBuffer()));

  const communes = await listUnits({ query: { q: "Vĩnh Linh", kind: "commune" } });
  const vinhLinh = communes.data?.items.find((u) => u.name === "Xã Vĩnh Linh");
  check(vinhLinh !== undefined, "Xã Vĩnh Linh is listed");
  const index = await getUnitIndex({ path: { id: vinhLinh.id }, query: { year: 2025 } });
  check(index.data !== undefined, "the merged commune's index");
  const predecessors = index.data.predecessors;
  check(predecessors.length === 5, `5 predecessors, got ${predecessors.length}`);
  check(predecessors.every((p) => p.weight === "1.00"), "equal weights, as scores");

  const frameworks = await listFrameworks({ query: { year: 2023 } });
  const framework = frameworks.data?.items[0];
  check(framework !== undefined, "the 2023 framework");
  const exported = await exportFrameworkXlsx({ path: { id: framework.id }, parseAs: "blob" });
  check(exported.data !== undefined, "framework export.xlsx");
  const imported = await importFrameworkXlsx({
    query: { year: 2033, name: "Bộ tiêu chí (hey-api)", owner_unit_id: province },
    body: exported.data,
    // The file as it is: not the JSON serializer the client uses by default.
    bodySerializer: null,
  });
  check(imported.data !== undefined, `import.xlsx: ${JSON.stringify(imported.error)}`);
  check(imported.data.criteria.length > 0, "the imported framework has criteria");

  console.log(
    `hey-api client: ranking downloaded; ${vinhLinh.name} merged from ${predecessors.length}; ` +
      `a workbook imported as framework ${imported.data.id}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
