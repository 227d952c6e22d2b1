//! The statistics page, served at `GET /stats`: sign in by pasting a token, choose a measure, dimensions, region
//! level, period and years among what the token's role may ask (`statisticsOptions`), and see a table and a chart
//! of the `statistics` answer, with the disclosure note, the query's cost and a link that opens the same query in
//! GraphiQL. It uses only the public GraphQL API at `/graphql`.
//!
//! Its script (the page's own code and Chart.js) and style sheet are built by `tools/stats-page/build.sh` from
//! the versions pinned in `tools/stats-page/package-lock.json`, committed under `api/assets/stats/` and embedded
//! at compile time, so the page loads nothing from any other host. Building the server never runs npm.
//!
//! Under `serve --demo` bound to a loopback address, and only then, the page carries a button that signs in with
//! the demo administrator's token: anyone who can reach such a server can already read that token from its log.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::AppState;
use super::embedded::{Assets, Embedded};

/// The route of the embedded files.
pub const ASSET_ROUTE: &str = "/stats/assets/{file}";

/// Where the embedded files are served, followed by a file's name.
const ASSET_PREFIX: &str = "/stats/assets/";

/// The endpoint the page sends its queries to, and where GraphiQL opens them.
const ENDPOINT: &str = "/graphql";

/// Holds the page to its own origin: its script and style sheet and requests to `/graphql`. Chart.js draws on a
/// canvas and sets styles through the DOM, so neither inline scripts nor inline styles are needed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The most the page and its files may weigh, gzipped: the city's network may be slow.
pub const BUDGET_GZIPPED_BYTES: usize = 300 * 1024;

/// The files built by `tools/stats-page/build.sh`.
const EMBEDDED: [Embedded; 3] = [
    Embedded {
        stem: "stats",
        extension: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/stats/stats.js"),
    },
    Embedded {
        stem: "stats",
        extension: "css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/stats/stats.css"),
    },
    Embedded {
        stem: "LICENSES",
        extension: "txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/stats/LICENSES.txt"),
    },
];

/// The embedded files with their served names, digested once.
static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets::new(ASSET_PREFIX, &EMBEDDED));

/// The page without and with the demo button.
static PAGE: LazyLock<String> = LazyLock::new(|| page_html(None));

/// Escapes text for an HTML attribute value or element content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The page; with `demo_token`, the button that signs in with it.
pub fn page_html(demo_token: Option<&str>) -> String {
    let script = ASSETS.url("stats", "js");
    let style = ASSETS.url("stats", "css");
    let licences = ASSETS.url("LICENSES", "txt");
    let demo = demo_token
        .map(|token| {
            format!(
                "\n<button type=\"button\" class=\"secondary\" id=\"demo\" data-token=\"{}\">Sign in as the demo \
                 administrator</button>",
                escape(token)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>govgraph statistics</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{style}">
<link rel="license" href="{licences}">
<script defer src="{script}"></script>
</head>
<body>
<div id="stats" data-endpoint="{ENDPOINT}" data-graphiql="{ENDPOINT}">
<header><h1>govgraph statistics</h1><a href="{ENDPOINT}">GraphiQL</a><span id="who"></span>
<button type="button" class="secondary" id="sign-out" hidden>Sign out</button></header>
<main>
<form id="sign-in">
<label for="token">Token</label>
<textarea id="token" rows="3" autocomplete="off" spellcheck="false" placeholder="Paste a token (govgraph token prints one)"></textarea>
<button type="submit">Sign in</button>{demo}
<p id="sign-in-error" role="alert"></p>
</form>
<section id="explore" hidden>
<form id="query">
<label class="field">Measure <select id="measure"></select></label>
<fieldset id="dimensions"><legend>Group by</legend></fieldset>
<label class="field">Region level <select id="region-level"></select></label>
<label class="field">Period <select id="period"></select></label>
<label class="field">From year <select id="from-year"></select></label>
<label class="field">To year <select id="to-year"></select></label>
<button type="submit">Show</button>
</form>
<p id="status" class="status" role="status"></p>
<p id="note" class="note"></p>
<p class="meta"><span id="cost"></span><a id="graphiql-link" href="{ENDPOINT}">Open this query in GraphiQL</a></p>
<div class="chart"><canvas id="chart" role="img" aria-label="Chart of the figures in the table below"></canvas></div>
<p id="chart-note"></p>
<div class="table-wrap"><table id="table"></table></div>
</section>
</main>
</div>
<noscript>The statistics page needs JavaScript; the same figures can be queried at {ENDPOINT}.</noscript>
</body>
</html>
"#
    )
}

/// `GET /stats`: the page, `no-cache` since it names the current files; with the demo button only when the
/// server runs `--demo` on a loopback address.
pub async fn page(state: web::Data<AppState>) -> HttpResponse {
    let body = match &state.demo_token {
        Some(token) => page_html(Some(token)),
        None => PAGE.clone(),
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

/// `GET /stats/assets/{file}`: an embedded file by its served name (see [`Assets::serve`]).
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    ASSETS.serve(&file)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzipped(bytes: &[u8]) -> usize {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(bytes).expect("gzip in memory");
        encoder.finish().expect("gzip in memory").len()
    }

    #[test]
    fn the_page_names_every_file_by_its_digest() {
        for asset in &ASSETS.files {
            assert!(PAGE.contains(&ASSETS.url_of(asset)), "{} is not on the page", asset.name);
        }
        assert!(!PAGE.contains("http://") && !PAGE.contains("https://"));
        assert!(!PAGE.contains("id=\"demo\""));
    }

    #[test]
    fn the_page_and_what_it_loads_stay_within_the_budget() {
        let page = gzipped(PAGE.as_bytes());
        let script = gzipped(include_bytes!("../../assets/stats/stats.js"));
        let style = gzipped(include_bytes!("../../assets/stats/stats.css"));
        let total = page + script + style;
        assert!(
            total <= BUDGET_GZIPPED_BYTES,
            "{total} bytes gzipped: page {page}, script {script}, style {style}"
        );
    }

    #[test]
    fn the_demo_token_is_escaped_into_the_button() {
        let html = page_html(Some("a\"b<c"));
        assert!(html.contains("id=\"demo\" data-token=\"a&quot;b&lt;c\""), "{html}");
    }
}
