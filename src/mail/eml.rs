//! Writing a mail as one `.eml` file in a directory (when no SMTP server is configured).

use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use rand::RngCore as _;

use super::MailError;

/// Writes `bytes` as a new `.eml` file in `dir` (via a temporary file and a rename,
/// so a reader never sees half a mail) and returns its path.
pub(super) async fn write(
    dir: &Path,
    message_id: &str,
    bytes: Vec<u8>,
) -> Result<PathBuf, MailError> {
    let dir = dir.to_path_buf();
    let name = file_name(message_id);
    let dir_for_task = dir.clone();
    tokio::task::spawn_blocking(move || {
        let path = dir_for_task.join(&name);
        let tmp = dir_for_task.join(format!(".{name}.tmp"));
        let result = (|| {
            // Mail holds action links: readable by the service's user only.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map(|()| path)
    })
    .await
    .map_err(io::Error::other)
    .and_then(|r| r)
    .map_err(|source| MailError::File { path: dir, source })
}

/// Creates `dir` (and missing parents) readable by the service's user only.
pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// `20190426T085100.123Z-comment-42.n1_comment-service-1a2b3c4d.eml`: sorts by
/// time, names the message, and never collides.
fn file_name(message_id: &str) -> String {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let id: String = message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let mut random = [0u8; 4];
    rand::rng().fill_bytes(&mut random);
    let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{stamp}-{id}-{random}.eml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eml_file_names_are_safe_and_distinct() {
        let a = file_name("<comment-42.n1@comment-service>");
        let b = file_name("<comment-42.n1@comment-service>");
        assert_ne!(a, b);
        assert!(a.ends_with(".eml"));
        assert!(a.contains("-comment-42.n1_comment-service-"), "{a}");
        let weird = file_name("<../../etc/passwd@x>");
        assert!(!weird.contains('/'), "{weird}");
    }
}
