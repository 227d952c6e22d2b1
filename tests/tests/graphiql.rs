//! GraphiQL's page and its embedded files: the page loads only same-origin files, each served with its type, a
//! long cache lifetime and exactly the committed bytes; any other name under the files' path is 404.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph_tests::{Fixture, TestServer};

/// The committed files, with the content type each must be served with.
const COMMITTED: [(&str, &str, &[u8]); 3] = [
    ("graphiql.js", "text/javascript", include_bytes!("../../api/assets/graphiql/graphiql.js")),
    ("graphiql.css", "text/css", include_bytes!("../../api/assets/graphiql/graphiql.css")),
    ("LICENSES.txt", "text/plain", include_bytes!("../../api/assets/graphiql/LICENSES.txt")),
];

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> String {
        self.headers.get(name).map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default()
    }
}

async fn get(server: &TestServer, path: &str, accept: &str) -> Answer {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.base))
        .header("accept", accept)
        .send()
        .await
        .expect("send GET");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("read body").to_vec();
    Answer { status, headers, body }
}

/// The page as a browser asks for it.
async fn page(server: &TestServer) -> String {
    let answer = get(server, "/graphql", "text/html,application/xhtml+xml,*/*;q=0.8").await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("content-type").starts_with("text/html"), "{}", answer.header("content-type"));
    assert_eq!(answer.header("cache-control"), "no-cache");
    String::from_utf8(answer.body).expect("the page is UTF-8")
}

/// Every `src` and `href` attribute value of the page.
fn references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in [" src=\"", " href=\""] {
        for (start, _) in page.match_indices(attribute) {
            let value = &page[start + attribute.len()..];
            found.push(value[..value.find('"').expect("closing quote")].to_owned());
        }
    }
    found
}

#[tokio::test]
async fn the_page_loads_only_files_of_its_own_origin() {
    let server = TestServer::start(Fixture::Empty).await;
    let page = page(&server).await;
    assert!(page.contains("<title>govgraph</title>"));
    assert!(page.contains("data-endpoint=\"/graphql\""));
    assert!(!page.contains("http://") && !page.contains("https://"), "a URL with a host: {page}");
    let references = references(&page);
    assert!(references.len() >= 3, "{references:?}");
    for reference in &references {
        let same_origin = reference.starts_with('/') && !reference.starts_with("//");
        assert!(same_origin || reference.starts_with("data:"), "{reference} is not same-origin");
    }
    let csp = get(&server, "/graphql", "text/html").await.header("content-security-policy");
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "{csp}");
}

#[tokio::test]
async fn each_file_is_served_as_committed() {
    let server = TestServer::start(Fixture::Empty).await;
    let references = references(&page(&server).await);
    for (name, content_type, bytes) in COMMITTED {
        let (stem, extension) = name.split_once('.').unwrap();
        let url = references
            .iter()
            .find(|url| {
                let Some(served) = url.strip_prefix("/graphiql/assets/") else { return false };
                let Some(digest) = served.strip_prefix(&format!("{stem}.")) else { return false };
                let Some(digest) = digest.strip_suffix(&format!(".{extension}")) else { return false };
                digest.len() == 16 && digest.bytes().all(|byte| byte.is_ascii_hexdigit())
            })
            .unwrap_or_else(|| panic!("{name} is not on the page: {references:?}"));
        let answer = get(&server, url, "*/*").await;
        assert_eq!(answer.status, 200, "{url}");
        assert!(
            answer.header("content-type").starts_with(content_type),
            "{url}: {}",
            answer.header("content-type")
        );
        assert!(
            answer.header("cache-control").contains("immutable"),
            "{url}: {}",
            answer.header("cache-control")
        );
        assert_eq!(answer.header("x-content-type-options"), "nosniff");
        assert!(answer.body == bytes, "{url} differs from api/assets/graphiql/{name}");
    }
}

#[tokio::test]
async fn unknown_files_are_not_found() {
    let server = TestServer::start(Fixture::Empty).await;
    for path in [
        "/graphiql/assets/graphiql.js",
        "/graphiql/assets/graphiql.0000000000000000.js",
        "/graphiql/assets/VERSIONS",
        "/graphiql/assets/..%2F..%2FCargo.toml",
        "/graphiql/assets/",
    ] {
        let answer = get(&server, path, "*/*").await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(!answer.header("cache-control").contains("immutable"), "{path}");
    }
}
