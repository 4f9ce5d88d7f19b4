//! The inbox's secret and what is derived from it: the avatar key that stands in for a
//! reader's e-mail. The secret comes from `CAIRN_SECRET`, or a file named by
//! `inbox.secret_file`, never from the site repository.

use std::path::Path;

use anyhow::{bail, Context, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Environment variable holding the secret.
pub const ENV: &str = "CAIRN_SECRET";

/// The environment variable holding site `name`'s secret, when one inbox serves several.
fn site_var(name: &str) -> String {
    format!("{ENV}_{}", name.to_uppercase().replace('-', "_"))
}

/// Hex digits kept of the HMAC: 64 bits tell avatars apart and reveal nothing usable.
const AVATAR_KEY_LEN: usize = 16;

/// A secret key of at least 16 bytes.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// The secret from `CAIRN_SECRET`, else from `file` (relative to `root`).
    pub fn load(file: Option<&Path>, root: &Path) -> Result<Secret> {
        Ok(Secret::located(None, file, root)?.0)
    }

    /// The secret of site `name` when one inbox serves several: from
    /// `CAIRN_SECRET_<NAME>` (upper case, `-` as `_`), else from `file`; never the
    /// shared `CAIRN_SECRET`, so no two sites share one by accident.
    pub fn load_for_site(name: &str, file: Option<&Path>, root: &Path) -> Result<Secret> {
        Ok(Secret::located(Some(name), file, root)?.0)
    }

    /// The inbox's secret (site `site`'s, when one inbox serves several), and where it
    /// was read from: `from VAR` or `from FILE`.
    pub fn located(
        site: Option<&str>,
        file: Option<&Path>,
        root: &Path,
    ) -> Result<(Secret, String)> {
        let (var, missing) = match site {
            None => (
                ENV.to_string(),
                "no secret: set CAIRN_SECRET or inbox.secret_file (e.g. `openssl rand -hex 32`)"
                    .to_string(),
            ),
            Some(name) => {
                let var = site_var(name);
                let missing = format!(
                    "site {name}: no secret: set {var} or inbox.secret_file in its cairn.toml"
                );
                (var, missing)
            }
        };
        if let Ok(value) = std::env::var(&var) {
            let secret = Secret::new(value.trim().as_bytes()).with_context(|| var.clone())?;
            return Ok((secret, format!("from {var}")));
        }
        let Some(file) = file else { bail!("{missing}") };
        let path = root.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read secret file {}", path.display()))?;
        let secret =
            Secret::new(text.trim().as_bytes()).with_context(|| path.display().to_string())?;
        Ok((secret, format!("from {}", path.display())))
    }

    /// A secret from bytes; too short a secret would make avatar keys guessable.
    pub fn new(bytes: &[u8]) -> Result<Secret> {
        if bytes.len() < 16 {
            bail!("the secret must be at least 16 characters long");
        }
        Ok(Secret(bytes.to_vec()))
    }

    /// A fresh random secret, for throwaway setups such as `cairn demo`.
    pub fn random() -> Secret {
        let bytes: Vec<u8> = (0..2).flat_map(|_| ulid::Ulid::new().to_bytes()).collect();
        Secret(bytes)
    }

    /// HMAC-SHA256 of `data` under the secret.
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the HMAC of `data`, compared in constant time.
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }

    /// The avatar key of an e-mail address: HMAC of the trimmed, lower-cased address,
    /// truncated. Without the secret it cannot be reversed by a dictionary of addresses.
    pub fn avatar_key(&self, email: &str) -> String {
        let normalized = email.trim().to_lowercase();
        to_hex(&self.mac(normalized.as_bytes())[..AVATAR_KEY_LEN / 2])
    }
}

/// Lower-case hex digits of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes a hex string spells; `None` unless it is pairs of hex digits only.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avatar_key_is_keyed_and_normalized() {
        let a = Secret::new(b"0123456789abcdef").unwrap();
        let b = Secret::new(b"fedcba9876543210").unwrap();
        let key = a.avatar_key("Ann@Example.org ");
        assert_eq!(key, a.avatar_key("ann@example.org"));
        assert_eq!(key.len(), 16);
        assert!(key.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(key, b.avatar_key("ann@example.org"));
        // Not a plain hash of the address, which anyone could compute.
        use sha2::Digest;
        let plain: String = Sha256::digest(b"ann@example.org")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!plain.starts_with(&key));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Secret::new(b"short").is_err());
    }
}
