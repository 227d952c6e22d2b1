//! Response compression: gzip or deflate, as the client accepts, for bodies large enough to gain from it.
//!
//! actix-web's own `Compress` compresses every body, however small, and hands every chunk above 1 KiB to a
//! blocking thread, each time with a new compressor (a few hundred KiB allocated and zeroed). A GraphQL answer
//! is one buffer whose size is known, so here:
//! - a body smaller than [`MIN_COMPRESSED_BYTES`] leaves as it is: it fits in one TCP segment either way, and
//!   gzip's framing can make a body that small larger;
//! - a body up to [`IN_PLACE_MAX_BYTES`] is compressed where it is, by a compressor kept per worker thread;
//! - anything else (a stream, a large export) goes through actix's encoder, which compresses off the worker.
//!
//! Negotiation and headers are actix's: `Accept-Encoding` with q-values, `406 Not Acceptable` when the client
//! refuses every coding we have (identity included), `Vary: accept-encoding` on every response whose coding
//! depended on it, and a body that already has a `Content-Encoding` is never touched.

use std::cell::RefCell;

use actix_http::encoding::Encoder;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};
use flate2::{Compress, Compression, FlushCompress, Status};

/// Bodies below this size are sent as they are: about one TCP segment's payload on Ethernet.
pub const MIN_COMPRESSED_BYTES: usize = 1_400;

/// Bodies up to this size are compressed on the worker that produced them (a few hundred microseconds at most
/// at the fast level); larger ones off it.
pub const IN_PLACE_MAX_BYTES: usize = 256 * 1024;

/// The codings we offer, in our order of preference on a tie.
static SUPPORTED: &[Encoding] = &[Encoding::gzip(), Encoding::deflate(), Encoding::identity()];

/// The middleware (`from_fn`): negotiates the coding, then encodes the response's body.
pub async fn compress(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let coding = match request.get_header::<AcceptEncoding>() {
        None => ContentEncoding::Identity,
        Some(accepted) => match accepted.negotiate(SUPPORTED.iter()) {
            Some(Encoding::Known(coding)) => coding,
            Some(Encoding::Unknown(_)) => ContentEncoding::Identity,
            None => {
                let mut refused =
                    HttpResponse::with_body(StatusCode::NOT_ACCEPTABLE, "gzip, deflate, identity");
                refused.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
                return Ok(request.into_response(refused.map_into_boxed_body()));
            }
        },
    };
    let response = next.call(request).await?;
    Ok(response.map_body(|head, body| encode(coding, head, body)))
}

fn encode<B: MessageBody + 'static>(
    coding: ContentEncoding,
    head: &mut actix_http::ResponseHead,
    body: B,
) -> BoxBody {
    let compressible = coding != ContentEncoding::Identity
        && !head.headers().contains_key(header::CONTENT_ENCODING)
        && !matches!(
            head.status,
            StatusCode::SWITCHING_PROTOCOLS | StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT
        )
        && compressible_type(head.headers().get(header::CONTENT_TYPE));
    if !compressible {
        return BoxBody::new(body);
    }
    let size = match body.size() {
        BodySize::Sized(size) => usize::try_from(size).ok(),
        BodySize::None => return BoxBody::new(body),
        BodySize::Stream => None,
    };
    match size {
        Some(size) if size < MIN_COMPRESSED_BYTES => {
            // Not compressed, but only because of its size: another response to the same request may be.
            head.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
            BoxBody::new(body)
        }
        Some(size) if size <= IN_PLACE_MAX_BYTES => match body.try_into_bytes() {
            Ok(bytes) => match compress_in_place(coding, &bytes) {
                Some(compressed) => {
                    let headers = head.headers_mut();
                    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.as_str()));
                    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
                    BoxBody::new(compressed)
                }
                None => BoxBody::new(Encoder::response(coding, head, bytes)),
            },
            Err(body) => BoxBody::new(Encoder::response(coding, head, body)),
        },
        _ => BoxBody::new(Encoder::response(coding, head, body)),
    }
}

/// actix's rule: images other than SVG and videos are already compressed.
fn compressible_type(content_type: Option<&HeaderValue>) -> bool {
    let Some(essence) = content_type.and_then(|value| value.to_str().ok()) else { return true };
    let essence = essence.trim_start().to_ascii_lowercase();
    if essence.starts_with("image/") {
        essence.starts_with("image/svg")
    } else {
        !essence.starts_with("video/")
    }
}

thread_local! {
    /// One raw-deflate and one zlib compressor per worker thread, reset between bodies.
    static COMPRESSORS: RefCell<(Option<Compress>, Option<Compress>)> = const { RefCell::new((None, None)) };
}

/// `bytes` gzipped or deflated (zlib format, as HTTP's `deflate` means) by this thread's compressor; `None` for
/// a coding this function does not produce.
fn compress_in_place(coding: ContentEncoding, bytes: &[u8]) -> Option<Bytes> {
    let gzip = match coding {
        ContentEncoding::Gzip => true,
        ContentEncoding::Deflate => false,
        _ => return None,
    };
    COMPRESSORS.with(|compressors| {
        let mut compressors = compressors.borrow_mut();
        let slot = if gzip { &mut compressors.0 } else { &mut compressors.1 };
        // gzip frames a raw deflate stream itself; `deflate` is the zlib stream.
        let compressor = slot.get_or_insert_with(|| Compress::new(Compression::fast(), !gzip));
        let mut out = Vec::with_capacity(bytes.len() / 3 + 64);
        if gzip {
            out.extend_from_slice(&GZIP_HEADER);
        }
        deflate_into(compressor, bytes, &mut out)?;
        if gzip {
            let mut crc = flate2::Crc::new();
            crc.update(bytes);
            out.extend_from_slice(&crc.sum().to_le_bytes());
            // ISIZE is the length modulo 2^32 (RFC 1952); bodies here are far below it.
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        }
        Some(Bytes::from(out))
    })
}

/// A gzip member header (RFC 1952): deflate, no flags, no time, fast compression, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x04, 0xff];

/// Compresses all of `input` onto the end of `out`, resetting `compressor` first (once per body: a reset zeroes
/// its tables). `None` if the compressor fails, which leaves the body to actix's encoder.
fn deflate_into(compressor: &mut Compress, input: &[u8], out: &mut Vec<u8>) -> Option<()> {
    compressor.reset();
    loop {
        let consumed = usize::try_from(compressor.total_in()).ok()?;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        match compressor.compress_vec(&input[consumed..], out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return Some(()),
            Ok(Status::Ok | Status::BufError) => {}
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn body(len: usize) -> Vec<u8> {
        let pattern = br#"{"data":{"volunteers":["V0000123"]}}"#;
        (0..len).map(|i| pattern[i % pattern.len()]).collect()
    }

    #[test]
    fn gzip_in_place_round_trips_and_the_compressor_is_reused() {
        for len in [MIN_COMPRESSED_BYTES, 4_218, 100_000, IN_PLACE_MAX_BYTES] {
            for _ in 0..2 {
                let input = body(len);
                let gzipped = compress_in_place(ContentEncoding::Gzip, &input).expect("gzip");
                assert!(gzipped.len() < input.len() / 4, "{len} bytes gzipped to {}", gzipped.len());
                let mut decoded = Vec::new();
                flate2::read::GzDecoder::new(&gzipped[..])
                    .read_to_end(&mut decoded)
                    .expect("a valid gzip member");
                assert_eq!(decoded, input);
            }
        }
    }

    #[test]
    fn deflate_in_place_is_zlib_and_round_trips() {
        for len in [10_000, 3_000] {
            let input = body(len);
            let deflated = compress_in_place(ContentEncoding::Deflate, &input).expect("deflate");
            let mut decoded = Vec::new();
            flate2::read::ZlibDecoder::new(&deflated[..])
                .read_to_end(&mut decoded)
                .expect("a valid zlib stream");
            assert_eq!(decoded, input);
        }
    }

    #[test]
    fn already_compressed_media_is_left_alone() {
        assert!(compressible_type(None));
        assert!(compressible_type(Some(&HeaderValue::from_static("application/json"))));
        assert!(compressible_type(Some(&HeaderValue::from_static("image/svg+xml"))));
        assert!(!compressible_type(Some(&HeaderValue::from_static("image/png"))));
        assert!(!compressible_type(Some(&HeaderValue::from_static("video/mp4"))));
    }
}
