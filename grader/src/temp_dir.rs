//! A folder of the grader's own under the system's temporary folder, removed when dropped.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub struct TempDir(PathBuf);

impl TempDir {
    /// `socklab-PURPOSE-PID-TOKEN`. Readable by everyone, whatever the umask: as root, some
    /// checks run the program under test as user `nobody`, which must read the files here.
    pub fn new(purpose: &str) -> io::Result<TempDir> {
        let path = std::env::temp_dir().join(format!(
            "socklab-{purpose}-{}-{}",
            std::process::id(),
            crate::words::token(8)
        ));
        fs::create_dir_all(&path)?;
        let dir = TempDir(path);
        fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o755))?;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `content` to the file `name` in the folder, readable by everyone.
    pub fn write(&self, name: &str, content: &str) -> io::Result<PathBuf> {
        let path = self.0.join(name);
        fs::write(&path, content)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))?;
        Ok(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
