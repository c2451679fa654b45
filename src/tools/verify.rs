//! Checksums: reading `.sha256` files and comparing digests.

/// The digest in a `.sha256` file: `"<hex>  <name>"` (sha256sum), `"<hex> <name>"` (Istio's
/// `util.CreateSha`) or a bare hex digest (minikube, kubectl). When a name is given it must be
/// the artifact's, so a file listing several digests picks the right line.
pub fn parse_checksum_file(content: &str, file_name: &str) -> Option<String> {
    parse_digest_file(content, file_name, 64)
}

/// Like [`parse_checksum_file`] for a digest of `hex_len` hex digits (128 for `.sha512`).
pub fn parse_digest_file(content: &str, file_name: &str, hex_len: usize) -> Option<String> {
    let lines: Vec<&str> = content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let digest = match lines.as_slice() {
        // One line: its digest, whatever name it gives (upstream renames assets, not lines).
        [line] => line.split_whitespace().next()?,
        _ => lines.iter().find_map(|line| {
            let mut fields = line.split_whitespace();
            let digest = fields.next()?;
            // sha256sum marks binary mode with `*`.
            let name = fields.next()?.trim_start_matches('*');
            (name.rsplit('/').next() == Some(file_name)).then_some(digest)
        })?,
    };
    let hex = digest.len() == hex_len && digest.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| digest.to_ascii_lowercase())
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "4c1d36ea1fc3bc32b3d5b7f0c5e7aa7c1e9d8a3b1a6f0fd2b0d6a4e0a8c1b2c3";

    #[test]
    fn accepts_the_upstream_formats() {
        assert_eq!(
            parse_checksum_file(&format!("{D}\n"), "minikube-linux-amd64").as_deref(),
            Some(D)
        );
        let istio = format!("{D} istio-1.5.0-linux.tar.gz\n");
        assert_eq!(
            parse_checksum_file(&istio, "istio-1.5.0-linux.tar.gz").as_deref(),
            Some(D)
        );
        let sum = format!("{}  *kubectl\n", D.to_uppercase());
        assert_eq!(parse_checksum_file(&sum, "kubectl").as_deref(), Some(D));
    }

    #[test]
    fn picks_the_line_for_the_file() {
        let other = D.replace('4', "5");
        let many = format!("{other}  a.tar.gz\n{D}  b.tar.gz\n");
        assert_eq!(parse_checksum_file(&many, "b.tar.gz").as_deref(), Some(D));
        assert_eq!(parse_checksum_file(&many, "c.tar.gz"), None);
    }

    #[test]
    fn reads_sha512_files() {
        let d512 = "ab".repeat(64);
        assert_eq!(parse_digest_file(&d512, "kubectl", 128), Some(d512.clone()));
        assert_eq!(parse_digest_file(D, "kubectl", 128), None);
    }

    #[test]
    fn refuses_what_is_not_a_digest() {
        assert_eq!(parse_checksum_file("<html>Not Found</html>", "x"), None);
        assert_eq!(parse_checksum_file("", "x"), None);
        assert_eq!(parse_checksum_file("abc123  x", "x"), None);
    }
}
