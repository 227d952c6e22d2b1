//! GraphiQL, served at `GET /graphql` to browsers, with everything it needs embedded in the binary: the script
//! and style sheet that `tools/graphiql/build.sh` bundles (GraphiQL, React and the explorer plugin, production
//! builds at the versions pinned in `tools/graphiql/package-lock.json`) are committed under
//! `api/assets/graphiql/` and included at compile time, so the page loads nothing from any other host and works
//! without internet access. Building the server never runs npm.
//!
//! The files are served under `/graphiql/assets/`, each named with a digest of its content and cached for a
//! year as immutable (see [`super::embedded`]); the page is `no-cache`. A content security policy holds the page to
//! its own origin.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::embedded::{Assets, Embedded};

/// The route of the embedded files.
pub const ASSET_ROUTE: &str = "/graphiql/assets/{file}";

/// Where the embedded files are served, followed by a file's name.
const ASSET_PREFIX: &str = "/graphiql/assets/";

/// The endpoint GraphiQL sends its requests to.
const ENDPOINT: &str = "/graphql";

/// Keeps the page to its own origin: its script and style sheet, requests to `/graphql`, and the fonts and
/// icons GraphiQL carries inline as `data:` URLs. Inline styles are allowed because GraphiQL's components set
/// them; inline scripts are not.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The files built by `tools/graphiql/build.sh`.
const EMBEDDED: [Embedded; 3] = [
    Embedded {
        stem: "graphiql",
        extension: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.js"),
    },
    Embedded {
        stem: "graphiql",
        extension: "css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.css"),
    },
    Embedded {
        stem: "LICENSES",
        extension: "txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/LICENSES.txt"),
    },
];

/// The embedded files with their served names, digested once.
static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets::new(ASSET_PREFIX, &EMBEDDED));

/// The page, the same for every request.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    let script = ASSETS.url("graphiql", "js");
    let style = ASSETS.url("graphiql", "css");
    let licences = ASSETS.url("LICENSES", "txt");
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>govgraph</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{style}">
<link rel="license" href="{licences}">
<script defer src="{script}"></script>
</head>
<body>
<div id="graphiql" data-endpoint="{ENDPOINT}">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript; queries can also be sent to {ENDPOINT} with POST.</noscript>
</body>
</html>
"#
    )
});

/// The GraphiQL page: `no-cache`, since it names the current files.
pub fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(PAGE.as_str())
}

/// `GET /graphiql/assets/{file}`: an embedded file by its served name (see [`Assets::serve`]).
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    ASSETS.serve(&file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_every_file_by_its_digest() {
        for asset in &ASSETS.files {
            assert!(PAGE.contains(&ASSETS.url_of(asset)), "{} is not on the page", asset.name);
        }
        assert!(!PAGE.contains("http://") && !PAGE.contains("https://"));
    }
}
