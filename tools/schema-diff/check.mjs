// Compares two SDL files and exits non-zero when the change breaks clients.
// Removing a field that was deprecated first is allowed; everything graphql-inspector rates BREAKING is not.
import { readFileSync } from "node:fs";
import { buildSchema } from "graphql";
import { diff, DiffRule, CriticalityLevel } from "@graphql-inspector/core";

const [oldPath, newPath, label = newPath] = process.argv.slice(2);
if (!oldPath || !newPath) {
  console.error("usage: node check.mjs OLD.graphql NEW.graphql [LABEL]");
  process.exit(2);
}
// Accepted renames (see renames.json and CHANGELOG.md) are applied to both sides before comparing.
const renames = Object.entries(
  JSON.parse(readFileSync(new URL("./renames.json", import.meta.url), "utf8")),
).filter(([from]) => !from.startsWith("//"));
const renamed = (text) =>
  renames.reduce((sdl, [from, to]) => sdl.replace(new RegExp(`\\b${from}\\b`, "g"), to), text);
const load = (path) => buildSchema(renamed(readFileSync(path, "utf8")));
const changes = await diff(load(oldPath), load(newPath), [DiffRule.suppressRemovalOfDeprecatedField]);
const breaking = changes.filter((change) => change.criticality.level === CriticalityLevel.Breaking);
for (const change of breaking) {
  console.error(`BREAKING ${label}: ${change.message}`);
}
if (breaking.length > 0) {
  console.error(`${breaking.length} breaking change(s): deprecate with @deprecated(reason:) first, remove later`);
  process.exit(1);
}
console.log(`schema ${label}: ${changes.length} change(s), none breaking`);
