// The scoped PostGraphile peer: the same preset as graphile.config.mjs, connected as a non-superuser login role
// (`govgraph_pg_login`, see scoped.sql) and scoping every request by a verified JWT, as a city deploying
// PostGraphile over govgraph's database would have to. The harness sets DATABASE_URL (the login role's URL),
// PORT and GOVGRAPH_PG_JWT_SECRET, and mints the tokens (HS256, audience "postgraphile") with the claims of
// govgraph's own: `sub`, `roles`, `region` (a region code), optional `purpose`.
//
// Per request (preset.grafast.context, PostGraphile 5's documented place for authentication) the token is
// verified and turned into pgSettings: `role` is the PostgreSQL role for the token's govgraph roles, and
// `jwt.claims.*` carry the claims the row-security policies read (`jwt.claims.region`). PostGraphile then runs
// each request in a transaction that sets them first (`set_config` … `SET LOCAL role`).
import jwt from "jsonwebtoken";
import { makePgService } from "postgraphile/adaptors/pg";
import basePreset from "./graphile.config.mjs";

const secret = process.env.GOVGRAPH_PG_JWT_SECRET;
if (!secret) {
  throw new Error("GOVGRAPH_PG_JWT_SECRET must be set (the HS256 secret of the scoped peer's tokens)");
}

// govgraph's roles that scoped.sql gives a PostgreSQL role; a token's roles, sorted and joined with "__", name
// its PostgreSQL role (`govgraph_pg_care_worker__grid_worker` holds the privileges of both).
const KNOWN_ROLES = new Set(["analyst", "partner", "grid_worker", "care_worker", "volunteer_coordinator"]);

function refuse(message) {
  return Object.assign(new Error(message), { statusCode: 401 });
}

/** The pgSettings of a request: its verified token's role and claims; a request without a valid token fails. */
function pgSettingsOf(authorization) {
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(authorization ?? "");
  if (!match) {
    throw refuse("a Bearer token is required");
  }
  let claims;
  try {
    claims = jwt.verify(match[1], secret, { algorithms: ["HS256"], audience: "postgraphile" });
  } catch (err) {
    throw refuse(`invalid token: ${err.message}`);
  }
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((role) => KNOWN_ROLES.has(role)) : [];
  if (roles.length === 0 || typeof claims.region !== "string" || typeof claims.sub !== "string") {
    throw refuse("the token needs sub, region and at least one known role");
  }
  return {
    role: `govgraph_pg_${[...new Set(roles)].sort().join("__")}`,
    "jwt.claims.sub": claims.sub,
    "jwt.claims.region": claims.region,
    "jwt.claims.roles": roles.join(","),
    "jwt.claims.purpose": typeof claims.purpose === "string" ? claims.purpose : "",
  };
}

/** @type {GraphileConfig.Preset} */
const preset = {
  ...basePreset,
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PG_POOL_MAX ?? 16) },
    }),
  ],
  grafast: {
    ...basePreset.grafast,
    context(requestContext) {
      const authorization = requestContext.node?.req?.headers?.authorization;
      return { pgSettings: pgSettingsOf(authorization) };
    },
  },
};

export default preset;
