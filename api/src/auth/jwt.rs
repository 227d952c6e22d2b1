//! Bearer-token verification with a fixed algorithm chosen by configuration, and minting of development tokens.

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{JwtArgs, PublicKeyAlgorithm};

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 30;

/// The claims govgraph reads. `aud` and `iss` are checked by the verifier when configured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The caller's stable identifier.
    pub sub: String,
    /// Role names; unknown ones are ignored.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Code of the region whose subtree the token may see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Expiry, seconds since the epoch (required).
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Display name of the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Standing purpose of access, recorded in the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// Why a key configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no token key configured: set GOVGRAPH_JWT_SECRET (HS256), GOVGRAPH_JWT_PUBLIC_KEY (RS256/ES256 PEM file) \
         or GOVGRAPH_JWT_JWKS (JWKS file, keys chosen by `kid`), or run `govgraph serve --demo` for a development secret"
    )]
    Missing,
    #[error("set only one of GOVGRAPH_JWT_SECRET, GOVGRAPH_JWT_PUBLIC_KEY and GOVGRAPH_JWT_JWKS")]
    Both,
    #[error("GOVGRAPH_JWT_JWKS file {path}: {reason}")]
    Jwks { path: String, reason: String },
    #[error("GOVGRAPH_JWT_SECRET must be at least 32 bytes long")]
    WeakSecret,
    #[error("cannot read GOVGRAPH_JWT_PUBLIC_KEY file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("GOVGRAPH_JWT_PUBLIC_KEY file {path} is not a {algorithm} public key in PEM form: {source}")]
    Pem { path: String, algorithm: &'static str, source: jsonwebtoken::errors::Error },
}

/// Why a presented token was refused. The message is safe to show to the caller.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was not issued for this service (iss/aud)")]
    WrongIssuerOrAudience,
    #[error("the token's claims are missing or malformed")]
    BadClaims,
    #[error("the token is invalid")]
    Invalid,
}

/// The verification key, or a set of them selected by the token's `kid` (key rotation).
#[derive(Clone)]
enum Keys {
    Single(DecodingKey),
    ByKid(std::collections::HashMap<String, DecodingKey>),
}

/// Verifies tokens with one algorithm and one key (or one key per `kid`).
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Keys,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").field("algorithms", &self.validation.algorithms).finish()
    }
}

impl TokenVerifier {
    /// Builds the verifier the configuration asks for; `fallback_secret` (the demo's development secret) is used
    /// only when neither a secret nor a public key is configured.
    pub fn from_config(args: &JwtArgs, fallback_secret: Option<&str>) -> Result<Self, KeyError> {
        let configured = [args.jwt_secret.is_some(), args.jwt_public_key.is_some(), args.jwt_jwks.is_some()]
            .iter()
            .filter(|set| **set)
            .count();
        if configured > 1 {
            return Err(KeyError::Both);
        }
        let (keys, algorithm) = if let Some(secret) = &args.jwt_secret {
            (Keys::Single(hs256_key(secret)?), Algorithm::HS256)
        } else if let Some(path) = &args.jwt_public_key {
            let (key, algorithm) = public_key(path, args.jwt_algorithm)?;
            (Keys::Single(key), algorithm)
        } else if let Some(path) = &args.jwt_jwks {
            key_set(path, args.jwt_algorithm)?
        } else if let Some(secret) = fallback_secret {
            (Keys::Single(hs256_key(secret)?), Algorithm::HS256)
        } else {
            return Err(KeyError::Missing);
        };
        Ok(Self::new(keys, algorithm, args.jwt_issuer.as_deref(), args.jwt_audience.as_deref()))
    }

    fn new(keys: Keys, algorithm: Algorithm, issuer: Option<&str>, audience: Option<&str>) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Self { keys, validation }
    }

    /// Verifies signature, algorithm and time/issuer/audience claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        let key = match &self.keys {
            Keys::Single(key) => key,
            Keys::ByKid(keys) => {
                let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
                header.kid.as_deref().and_then(|kid| keys.get(kid)).ok_or(TokenError::Invalid)?
            }
        };
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenError::WrongIssuerOrAudience,
                ErrorKind::MissingRequiredClaim(claim) if claim == "iss" || claim == "aud" => {
                    TokenError::WrongIssuerOrAudience
                }
                ErrorKind::MissingRequiredClaim(_) | ErrorKind::Json(_) => TokenError::BadClaims,
                _ => TokenError::Invalid,
            })?;
        if claims_fit(&claims) { Ok(claims) } else { Err(TokenError::BadClaims) }
    }
}

/// The longest `sub` and `name` claims: both are recorded as the actor of audit events and ledger entries.
pub const MAX_SUBJECT_CHARS: usize = 64;
/// The longest `purpose` claim (or `X-Access-Purpose` header), recorded with every audited access.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// Whether the claims that are written into the audit trail fit it. A token whose subject would not fit is
/// refused as a whole rather than recorded under a shortened, possibly someone else's, subject.
fn claims_fit(claims: &Claims) -> bool {
    let chars = |text: &str| text.chars().count();
    (1..=MAX_SUBJECT_CHARS).contains(&chars(claims.sub.trim()))
        && claims.name.as_deref().is_none_or(|name| chars(name) <= MAX_SUBJECT_CHARS)
        && claims.purpose.as_deref().is_none_or(|purpose| chars(purpose) <= MAX_PURPOSE_CHARS)
}

fn hs256_key(secret: &str) -> Result<DecodingKey, KeyError> {
    if secret.len() < 32 {
        return Err(KeyError::WeakSecret);
    }
    DecodingKey::from_secret(secret.as_bytes()).map_err(|_| KeyError::WeakSecret)
}

fn public_key(path: &Path, algorithm: PublicKeyAlgorithm) -> Result<(DecodingKey, Algorithm), KeyError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|source| KeyError::Read { path: shown.clone(), source })?;
    match algorithm {
        PublicKeyAlgorithm::Rs256 => DecodingKey::from_rsa_pem(&pem)
            .map(|key| (key, Algorithm::RS256))
            .map_err(|source| KeyError::Pem { path: shown, algorithm: "RS256", source }),
        PublicKeyAlgorithm::Es256 => DecodingKey::from_ec_pem(&pem)
            .map(|key| (key, Algorithm::ES256))
            .map_err(|source| KeyError::Pem { path: shown, algorithm: "ES256", source }),
    }
}

fn key_set(path: &Path, algorithm: PublicKeyAlgorithm) -> Result<(Keys, Algorithm), KeyError> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|source| KeyError::Read { path: shown.clone(), source })?;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&text)
        .map_err(|err| KeyError::Jwks { path: shown.clone(), reason: err.to_string() })?;
    let algorithm = match algorithm {
        PublicKeyAlgorithm::Rs256 => Algorithm::RS256,
        PublicKeyAlgorithm::Es256 => Algorithm::ES256,
    };
    let mut keys = std::collections::HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            return Err(KeyError::Jwks { path: shown, reason: "every key needs a `kid`".into() });
        };
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|err| KeyError::Jwks { path: shown.clone(), reason: format!("key {kid}: {err}") })?;
        keys.insert(kid, key);
    }
    if keys.is_empty() {
        return Err(KeyError::Jwks { path: shown, reason: "the set holds no key".into() });
    }
    Ok((Keys::ByKid(keys), algorithm))
}

/// Signs development tokens with a shared HS256 secret (`govgraph token`, tests).
pub fn mint_hs256(secret: &str, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
    let key = EncodingKey::from_secret(secret.as_bytes())?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn args() -> JwtArgs {
        JwtArgs {
            jwt_secret: Some(SECRET.into()),
            jwt_public_key: None,
            jwt_jwks: None,
            jwt_algorithm: PublicKeyAlgorithm::Rs256,
            jwt_issuer: None,
            jwt_audience: None,
        }
    }

    fn claims(exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "u1".into(),
            roles: vec!["admin".into()],
            region: Some("330900".into()),
            exp: now + exp_offset,
            iat: Some(now),
            nbf: None,
            iss: None,
            aud: None,
            name: None,
            purpose: None,
        }
    }

    #[test]
    fn claims_written_to_the_audit_trail_must_fit_it() {
        let verifier = TokenVerifier::from_config(&args(), None).unwrap();
        let with = |change: &dyn Fn(&mut Claims)| {
            let mut claims = claims(600);
            change(&mut claims);
            verifier.verify(&mint_hs256(SECRET, &claims).unwrap())
        };
        assert!(with(&|c| c.sub = "审".repeat(MAX_SUBJECT_CHARS)).is_ok());
        assert_eq!(with(&|c| c.sub = "审".repeat(MAX_SUBJECT_CHARS + 1)), Err(TokenError::BadClaims));
        assert_eq!(with(&|c| c.sub = " ".into()), Err(TokenError::BadClaims));
        assert!(with(&|c| c.name = Some("名".repeat(MAX_SUBJECT_CHARS))).is_ok());
        assert_eq!(with(&|c| c.name = Some("名".repeat(MAX_SUBJECT_CHARS + 1))), Err(TokenError::BadClaims));
        assert!(with(&|c| c.purpose = Some("由".repeat(MAX_PURPOSE_CHARS))).is_ok());
        assert_eq!(
            with(&|c| c.purpose = Some("由".repeat(MAX_PURPOSE_CHARS + 1))),
            Err(TokenError::BadClaims)
        );
    }

    #[test]
    fn round_trip() {
        let verifier = TokenVerifier::from_config(&args(), None).unwrap();
        let token = mint_hs256(SECRET, &claims(600)).unwrap();
        assert_eq!(verifier.verify(&token).unwrap().sub, "u1");
    }

    #[test]
    fn expired_and_wrong_key() {
        let verifier = TokenVerifier::from_config(&args(), None).unwrap();
        let old = mint_hs256(SECRET, &claims(-3600)).unwrap();
        assert_eq!(verifier.verify(&old), Err(TokenError::Expired));
        let forged = mint_hs256("another-secret-another-secret-xx", &claims(600)).unwrap();
        assert_eq!(verifier.verify(&forged), Err(TokenError::Invalid));
    }

    #[test]
    fn alg_none_is_refused() {
        let verifier = TokenVerifier::from_config(&args(), None).unwrap();
        let token = mint_hs256(SECRET, &claims(600)).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        // {"alg":"none","typ":"JWT"}
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(verifier.verify(&unsigned).is_err());
    }

    #[test]
    fn configuration_errors() {
        let mut none = args();
        none.jwt_secret = None;
        assert!(matches!(TokenVerifier::from_config(&none, None), Err(KeyError::Missing)));
        assert!(TokenVerifier::from_config(&none, Some(SECRET)).is_ok());
        let mut weak = args();
        weak.jwt_secret = Some("short".into());
        assert!(matches!(TokenVerifier::from_config(&weak, None), Err(KeyError::WeakSecret)));
    }

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys").join(name)
    }

    fn sign(algorithm: Algorithm, private_pem: &str, kid: Option<&str>, claims: &Claims) -> String {
        let pem = std::fs::read(fixture(private_pem)).unwrap();
        let key = match algorithm {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
            _ => EncodingKey::from_ec_pem(&pem).unwrap(),
        };
        let mut header = Header::new(algorithm);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn public_args(key: Option<&str>, jwks: Option<&str>, algorithm: PublicKeyAlgorithm) -> JwtArgs {
        JwtArgs {
            jwt_secret: None,
            jwt_public_key: key.map(fixture),
            jwt_jwks: jwks.map(fixture),
            jwt_algorithm: algorithm,
            jwt_issuer: None,
            jwt_audience: None,
        }
    }

    #[test]
    fn rs256_and_es256_public_keys() {
        let rs = TokenVerifier::from_config(
            &public_args(Some("rsa-a.pub"), None, PublicKeyAlgorithm::Rs256),
            None,
        )
        .unwrap();
        assert!(rs.verify(&sign(Algorithm::RS256, "rsa-a.key", None, &claims(600))).is_ok());
        assert_eq!(
            rs.verify(&sign(Algorithm::RS256, "rsa-b.key", None, &claims(600))),
            Err(TokenError::Invalid)
        );
        // An HS256 token signed with the public key's bytes must not pass an RS256 configuration.
        let public_pem = std::fs::read_to_string(fixture("rsa-a.pub")).unwrap();
        let confused = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(600),
            &EncodingKey::from_secret(public_pem.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(rs.verify(&confused), Err(TokenError::Invalid));

        let es =
            TokenVerifier::from_config(&public_args(Some("ec.pub"), None, PublicKeyAlgorithm::Es256), None)
                .unwrap();
        assert!(es.verify(&sign(Algorithm::ES256, "ec.key", None, &claims(600))).is_ok());
        assert!(es.verify(&sign(Algorithm::RS256, "rsa-a.key", None, &claims(600))).is_err());
    }

    #[test]
    fn jwks_selects_the_key_by_kid() {
        let set = TokenVerifier::from_config(
            &public_args(None, Some("jwks.json"), PublicKeyAlgorithm::Rs256),
            None,
        )
        .unwrap();
        assert!(set.verify(&sign(Algorithm::RS256, "rsa-a.key", Some("rsa-a"), &claims(600))).is_ok());
        assert!(set.verify(&sign(Algorithm::RS256, "rsa-b.key", Some("rsa-b"), &claims(600))).is_ok());
        let wrong_kid = sign(Algorithm::RS256, "rsa-b.key", Some("rsa-a"), &claims(600));
        assert_eq!(set.verify(&wrong_kid), Err(TokenError::Invalid));
        let no_kid = sign(Algorithm::RS256, "rsa-a.key", None, &claims(600));
        assert_eq!(set.verify(&no_kid), Err(TokenError::Invalid));
        let unknown_kid = sign(Algorithm::RS256, "rsa-a.key", Some("rsa-z"), &claims(600));
        assert_eq!(set.verify(&unknown_kid), Err(TokenError::Invalid));
    }

    #[test]
    fn not_yet_valid_and_audience() {
        let mut with_aud = args();
        with_aud.jwt_audience = Some("govgraph".into());
        let verifier = TokenVerifier::from_config(&with_aud, None).unwrap();
        let mut future = claims(3600);
        future.nbf = Some(chrono::Utc::now().timestamp() + 600);
        future.aud = Some("govgraph".into());
        assert_eq!(verifier.verify(&mint_hs256(SECRET, &future).unwrap()), Err(TokenError::NotYetValid));
        let mut wrong_aud = claims(600);
        wrong_aud.aud = Some("another-service".into());
        assert_eq!(
            verifier.verify(&mint_hs256(SECRET, &wrong_aud).unwrap()),
            Err(TokenError::WrongIssuerOrAudience)
        );
        let mut right = claims(600);
        right.aud = Some("govgraph".into());
        assert!(verifier.verify(&mint_hs256(SECRET, &right).unwrap()).is_ok());
    }

    #[test]
    fn missing_or_mistyped_exp_is_refused() {
        let verifier = TokenVerifier::from_config(&args(), None).unwrap();
        let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
        let header = Header::new(Algorithm::HS256);
        let no_exp =
            jsonwebtoken::encode(&header, &serde_json::json!({ "sub": "u1", "region": "330900" }), &key)
                .unwrap();
        assert!(verifier.verify(&no_exp).is_err());
        let text_exp = jsonwebtoken::encode(
            &header,
            &serde_json::json!({ "sub": "u1", "region": "330900", "exp": "99999999999" }),
            &key,
        )
        .unwrap();
        assert!(verifier.verify(&text_exp).is_err());
    }

    #[test]
    fn issuer_is_checked_when_configured() {
        let mut with_iss = args();
        with_iss.jwt_issuer = Some("https://idp.example".into());
        let verifier = TokenVerifier::from_config(&with_iss, None).unwrap();
        let no_iss = mint_hs256(SECRET, &claims(600)).unwrap();
        assert_eq!(verifier.verify(&no_iss), Err(TokenError::WrongIssuerOrAudience));
        let mut good = claims(600);
        good.iss = Some("https://idp.example".into());
        assert!(verifier.verify(&mint_hs256(SECRET, &good).unwrap()).is_ok());
    }
}
