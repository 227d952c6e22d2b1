// PostGraphile 5 over the benchmark's PostgreSQL database, for the side-by-side comparison in `bench/run`.
// The harness sets DATABASE_URL and PORT. No JWT and no row-level security: PostGraphile reads everything as
// the connecting (super)user, which saves it the scoping work our server does on every request.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { PgAggregatesPreset } from "@graphile/pg-aggregates";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [
    PostGraphileAmberPreset,
    PgSimplifyInflectionPreset,
    PgAggregatesPreset,
    PostGraphileConnectionFilterPreset,
  ],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PG_POOL_MAX ?? 16) },
    }),
  ],
  schema: {
    connectionFilterRelations: true,
    pgForbidSetofFunctionsToReturnNull: true,
  },
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 5678),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
