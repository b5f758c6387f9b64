//! Encryption of TOTP secrets at rest with a server key kept outside the database
//! (XChaCha20-Poly1305; the user id is bound in as associated data, so a ciphertext copied to
//! another user's row does not decrypt).

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};
use plenum_domain::UserId;

/// Encrypts and decrypts secrets for one server.
#[derive(Clone)]
pub struct SecretCipher {
    cipher: XChaCha20Poly1305,
}

/// A ciphertext that does not decrypt with this server's key.
#[derive(Debug, thiserror::Error)]
#[error("stored secret cannot be decrypted with this server's key")]
pub struct DecryptError;

impl SecretCipher {
    /// A cipher from a 32-byte key.
    pub fn new(key: &[u8]) -> Option<Self> {
        XChaCha20Poly1305::new_from_slice(key)
            .ok()
            .map(|cipher| Self { cipher })
    }

    /// `base64(nonce || ciphertext)`, bound to the user.
    pub fn encrypt(&self, user: UserId, plaintext: &[u8]) -> String {
        self.seal(user.as_uuid().as_bytes(), plaintext)
    }

    /// `base64(nonce || ciphertext)`, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        // Encryption with a valid key and nonce cannot fail for inputs of this size.
        let sealed = self.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        B64.encode(out)
    }

    pub fn decrypt(&self, user: UserId, stored: &str) -> Result<Vec<u8>, DecryptError> {
        self.open(user.as_uuid().as_bytes(), stored)
    }

    /// Opens what [`SecretCipher::seal`] sealed with the same `aad`.
    pub fn open(&self, aad: &[u8], stored: &str) -> Result<Vec<u8>, DecryptError> {
        let raw = B64.decode(stored).map_err(|_| DecryptError)?;
        if raw.len() < 24 {
            return Err(DecryptError);
        }
        let (nonce, sealed) = raw.split_at(24);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad })
            .map_err(|_| DecryptError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_only_for_the_same_user_and_key() {
        let cipher = SecretCipher::new(&[7u8; 32]).unwrap();
        let user = UserId::new();
        let sealed = cipher.encrypt(user, b"JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(cipher.decrypt(user, &sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
        assert!(
            cipher.decrypt(UserId::new(), &sealed).is_err(),
            "bound to the user"
        );
        let other = SecretCipher::new(&[8u8; 32]).unwrap();
        assert!(other.decrypt(user, &sealed).is_err(), "bound to the key");
        assert_ne!(
            cipher.encrypt(user, b"x"),
            cipher.encrypt(user, b"x"),
            "fresh nonces"
        );
    }
}
