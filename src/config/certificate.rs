//! Trusted root certificates in the forms people have them: PEM
//! (`-----BEGIN CERTIFICATE-----`), DER (a binary `.cer`), or the base64 text of the
//! DER certificate without PEM header lines (the form the quickstart ships). Every
//! form becomes the base64 of the DER certificate, encoded exactly once: what the
//! Application Gateway reads from the Key Vault secret.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Largest trusted root certificate file read (64 KiB; a certificate is a few KiB).
pub const MAX_CERTIFICATE_BYTES: u64 = 65_536;

/// The base64 text of the single DER certificate in `bytes` (PEM, DER or header-less
/// base64), or why it is not one.
pub fn trusted_root_base64(bytes: &[u8]) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if is_der_certificate(bytes) {
        return Ok(STANDARD.encode(bytes));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| NOT_A_CERTIFICATE.to_string())?;
    let der = if text.contains("-----BEGIN") {
        pem_certificate(text)?
    } else {
        decode_base64(text).ok_or_else(|| NOT_A_CERTIFICATE.to_string())?
    };
    if !is_der_certificate(&der) {
        return Err(NOT_A_CERTIFICATE.into());
    }
    Ok(STANDARD.encode(der))
}

const NOT_A_CERTIFICATE: &str = "not a certificate: expected PEM (-----BEGIN CERTIFICATE-----), DER (a binary .cer) or the base64 text of a DER certificate";

/// The DER bytes of the one `CERTIFICATE` block of a PEM text.
fn pem_certificate(text: &str) -> Result<Vec<u8>, String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match (&mut current, line) {
            (None, "-----BEGIN CERTIFICATE-----") => current = Some(String::new()),
            (Some(body), "-----END CERTIFICATE-----") => {
                blocks.push(std::mem::take(body));
                current = None;
            }
            (Some(body), l) => body.push_str(l),
            (None, _) => {}
        }
    }
    match blocks.as_slice() {
        [] => Err("the PEM file holds no complete CERTIFICATE block".into()),
        [one] => decode_base64(one)
            .ok_or_else(|| "the PEM CERTIFICATE block is not valid base64".to_string()),
        many => Err(format!(
            "the PEM file holds {} certificates; give only the root certificate",
            many.len()
        )),
    }
}

/// `text` without whitespace, decoded as standard base64.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    STANDARD.decode(compact.as_bytes()).ok()
}

/// Whether `der` is exactly one DER `SEQUENCE` (an X.509 certificate's outer shape):
/// tag 0x30 and a definite length that covers the rest of the bytes.
fn is_der_certificate(der: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = der else {
        return false;
    };
    let (len, header) = match *first {
        n if n < 0x80 => (usize::from(n), 0),
        0x81..=0x84 => {
            let k = usize::from(first & 0x7f);
            if rest.len() < k {
                return false;
            }
            let len = rest[..k]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, k)
        }
        _ => return false,
    };
    rest.len() == header + len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der() -> Vec<u8> {
        // SEQUENCE of 300 bytes (long-form length 0x82 0x01 0x2c).
        let mut d = vec![0x30, 0x82, 0x01, 0x2c];
        d.extend((0..300).map(|i| (i % 251) as u8));
        d
    }

    fn pem(body: &str) -> String {
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn der_pem_and_headerless_base64_all_give_the_der_encoded_once() {
        let want = STANDARD.encode(der());
        assert_eq!(trusted_root_base64(&der()).unwrap(), want);
        assert_eq!(trusted_root_base64(pem(&want).as_bytes()).unwrap(), want);
        let crlf = pem(&want).replace('\n', "\r\n");
        assert_eq!(trusted_root_base64(crlf.as_bytes()).unwrap(), want);
        // Header-less base64 text, wrapped or not, with a trailing newline: the
        // quickstart's form, never encoded a second time.
        assert_eq!(trusted_root_base64(want.as_bytes()).unwrap(), want);
        let wrapped = format!("{}\n{}\n", &want[..64], &want[64..]);
        assert_eq!(trusted_root_base64(wrapped.as_bytes()).unwrap(), want);
        let bom = [b"\xEF\xBB\xBF".as_slice(), want.as_bytes()].concat();
        assert_eq!(trusted_root_base64(&bom).unwrap(), want);
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let b64 = STANDARD.encode(der());
        let two = format!("{}{}", pem(&b64), pem(&b64));
        assert!(
            trusted_root_base64(two.as_bytes())
                .unwrap_err()
                .contains("2 certificates")
        );
        let key = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        assert!(
            trusted_root_base64(key.as_bytes())
                .unwrap_err()
                .contains("no complete")
        );
        for junk in [&b"hello world"[..], b"", b"\x30\x05\x01", b"SGVsbG8="] {
            assert!(
                trusted_root_base64(junk)
                    .unwrap_err()
                    .contains("not a certificate"),
                "{junk:?}"
            );
        }
    }
}
