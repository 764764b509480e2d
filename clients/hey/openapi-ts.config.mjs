// @hey-api/openapi-ts, as scripts/check-clients.sh runs it: the SDK and types with the
// fetch client, imports ending in `.js` (Node's ES modules need them).
export default {
  input: "../openapi/openapi.json",
  output: { path: "generated/hey-api", importFileExtension: ".js" },
};
