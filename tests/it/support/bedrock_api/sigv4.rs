//! SigV4 as AWS checks it, written out independently of the gateway's
//! signer (`aws-sigv4`): the `Authorization` header's structure, the
//! credential scope, the signed headers, the body hash, the clock skew, the
//! session token, and the signature recomputed with the test secret from
//! the canonical request (double-encoded path, sorted signed headers with
//! trimmed values, SHA-256 of the body).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use super::{ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, SESSION_TOKEN};

/// An AWS error: status, type, message.
pub type Refusal = (u16, &'static str, String);

/// How far the request's clock may be from ours (AWS allows 15 minutes).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

pub fn verify(
    raw_path: &str,
    headers: &HeaderMap,
    body: &[u8],
    expect_token: bool,
) -> Result<(), Refusal> {
    let invalid = |message: &str| (403, "InvalidSignatureException", message.to_string());
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(auth) = header("authorization") else {
        return Err((
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".into(),
        ));
    };
    let Some(fields) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err((
            400,
            "IncompleteSignatureException",
            format!("Unsupported Authorization Type: {auth}"),
        ));
    };
    // `Credential=…, SignedHeaders=…, Signature=…`, in this order.
    let parts: Vec<&str> = fields.split(", ").collect();
    let field = |i: usize, name: &str| parts.get(i).and_then(|p| p.strip_prefix(name));
    let (Some(credential), Some(signed), Some(signature)) = (
        field(0, "Credential="),
        field(1, "SignedHeaders="),
        field(2, "Signature="),
    ) else {
        return Err((
            400,
            "IncompleteSignatureException",
            format!(
                "Authorization header requires Credential, SignedHeaders and Signature: {auth}"
            ),
        ));
    };
    if parts.len() != 3
        || signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err((
            400,
            "IncompleteSignatureException",
            "The signature must be 64 lowercase hex digits.".into(),
        ));
    }
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, terminator] = scope.as_slice() else {
        return Err((
            400,
            "IncompleteSignatureException",
            format!("Invalid credential scope: {credential}"),
        ));
    };
    if *key_id != ACCESS_KEY_ID {
        return Err((
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".into(),
        ));
    }
    if *region != REGION {
        return Err(invalid("Credential should be scoped to a valid region."));
    }
    if *service != "bedrock" {
        return Err(invalid(
            "Credential should be scoped to correct service: 'bedrock'.",
        ));
    }
    if *terminator != "aws4_request" {
        return Err(invalid(
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
        ));
    }
    let amz_date = header("x-amz-date").unwrap_or("");
    let Some(time) = parse_amz_date(amz_date) else {
        return Err(invalid(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    };
    if !amz_date.starts_with(date) {
        return Err(invalid(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.",
        ));
    }
    let now = SystemTime::now();
    let skew = now
        .duration_since(time)
        .or_else(|_| time.duration_since(now))
        .unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(invalid(
            "Signature expired: the request time is too far from the server's.",
        ));
    }
    let names: Vec<&str> = signed.split(';').collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if names != sorted
        || names
            .iter()
            .any(|n| n.is_empty() || n.to_ascii_lowercase() != *n)
    {
        return Err(invalid(
            "SignedHeaders must be lowercase, sorted and unique.",
        ));
    }
    let mut required = vec!["host", "x-amz-date"];
    required.extend(
        ["x-amz-content-sha256", "x-amz-security-token"]
            .into_iter()
            .filter(|h| headers.contains_key(*h)),
    );
    if let Some(missing) = required.iter().find(|h| !names.contains(h)) {
        return Err(invalid(&format!("'{missing}' must be a signed header.")));
    }
    let body_hash = hex(&Sha256::digest(body));
    if let Some(claimed) = header("x-amz-content-sha256")
        && claimed != body_hash
    {
        return Err(invalid(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ));
    }
    match (header("x-amz-security-token"), expect_token) {
        (Some(SESSION_TOKEN), true) | (None, false) => {}
        _ => {
            return Err((
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            ));
        }
    }
    let mut canonical = format!("POST\n{}\n\n", canonical_uri(raw_path));
    for name in &names {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| {
                v.to_str()
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if values.is_empty() {
            return Err(invalid(&format!("The signed header '{name}' is missing.")));
        }
        canonical.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    canonical.push_str(&format!("\n{signed}\n{body_hash}"));
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{SECRET_ACCESS_KEY}").as_bytes(),
        date.as_bytes(),
    );
    for part in [*region, *service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    if hex(&hmac(&key, to_sign.as_bytes())) != signature {
        return Err(invalid(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(())
}

/// Each path segment URI-encoded once more (the path arrives encoded).
fn canonical_uri(raw_path: &str) -> String {
    raw_path
        .split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `YYYYMMDDTHHMMSSZ` as a time.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_verifier_agrees_with_the_aws_test_suite_key_derivation() {
    // AWS's documented example: the signing key for 20120215/us-east-1/iam.
    let mut key = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20120215");
    for part in ["us-east-1", "iam", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    assert_eq!(
        hex(&key),
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    );
    assert_eq!(
        canonical_uri("/model/a.b-v1%3A0/converse"),
        "/model/a.b-v1%253A0/converse"
    );
    let t = parse_amz_date("20150830T123600Z").unwrap();
    assert_eq!(
        t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
        1_440_938_160
    );
}
