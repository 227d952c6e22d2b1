//! Files committed under `api/assets/` and embedded in the binary, served under names that carry a digest of
//! their content (`<stem>.<16 hex digits of its SHA-256>.<extension>`) and cached for a year as immutable: the
//! pages that name them are `no-cache`, so a browser picks up a new binary's files at its next load. GraphiQL
//! and the statistics page serve theirs this way.

use actix_web::HttpResponse;
use actix_web::http::header;
use sha2::{Digest, Sha256};

/// How long a browser keeps a file whose URL names its content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A committed file embedded in the binary.
pub struct Embedded {
    /// Its name without the extension.
    pub stem: &'static str,
    /// Its extension, without the dot.
    pub extension: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// An embedded file under the name it is served by.
pub struct Asset {
    /// `<stem>.<digest>.<extension>`.
    pub name: String,
    pub stem: &'static str,
    pub extension: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// Embedded files served from under one path.
pub struct Assets {
    /// Where they are served, ending in `/`.
    prefix: &'static str,
    pub files: Vec<Asset>,
}

impl Assets {
    /// The files, each digested once, served under `prefix`.
    pub fn new(prefix: &'static str, embedded: &[Embedded]) -> Self {
        let files = embedded
            .iter()
            .map(|file| {
                let digest = hex::encode(Sha256::digest(file.bytes));
                Asset {
                    name: format!("{}.{}.{}", file.stem, &digest[..16], file.extension),
                    stem: file.stem,
                    extension: file.extension,
                    content_type: file.content_type,
                    bytes: file.bytes,
                }
            })
            .collect();
        Self { prefix, files }
    }

    /// The URL path of the embedded file `stem.extension`.
    pub fn url(&self, stem: &str, extension: &str) -> String {
        let name = self
            .files
            .iter()
            .find(|file| file.stem == stem && file.extension == extension)
            .map(|file| file.name.as_str())
            .unwrap_or_default();
        format!("{}{name}", self.prefix)
    }

    /// The URL path of `asset`.
    pub fn url_of(&self, asset: &Asset) -> String {
        format!("{}{}", self.prefix, asset.name)
    }

    /// An embedded file by its served name; 404 for any other name (also a name with an earlier digest, so that a
    /// cache never keeps other content under a name).
    pub fn serve(&self, name: &str) -> HttpResponse {
        match self.files.iter().find(|asset| asset.name == name) {
            Some(asset) => HttpResponse::Ok()
                .content_type(asset.content_type)
                .insert_header((header::CACHE_CONTROL, IMMUTABLE))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .body(asset.bytes),
            None => HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body("no such file\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_digest_and_only_they_are_served() {
        let assets = Assets::new(
            "/x/",
            &[Embedded { stem: "a", extension: "js", content_type: "text/javascript", bytes: b"1" }],
        );
        let digest = hex::encode(Sha256::digest(b"1"));
        assert_eq!(assets.url("a", "js"), format!("/x/a.{}.js", &digest[..16]));
        assert_eq!(assets.serve(&assets.files[0].name).status(), 200);
        assert_eq!(assets.serve("a.0000000000000000.js").status(), 404);
    }
}
