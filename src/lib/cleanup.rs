//! Output files that never look finished before they are: [`AtomicFile`]
//! writes under a temporary name next to the final one and renames it into
//! place in [`AtomicFile::commit`]. Until then the temporary file is
//! registered here, and removed
//!
//! * when the [`AtomicFile`] is dropped without being committed (an error
//!   return, a panic that unwinds), and
//! * when the process receives SIGTERM, SIGINT or SIGHUP: a handler thread
//!   removes every registered temporary file, then lets the signal kill the
//!   process as it would have without a handler (a shell sees status
//!   128 + signal number, e.g. 143 for SIGTERM). Signals ignored at start
//!   (`nohup` ignores SIGHUP) stay ignored.
//!
//! [`TempFile`] is a scratch file (a sorted run spilled to disk) registered
//! the same way, and removed when dropped whatever happened.
//!
//! The handlers are installed the first time a file is created here, so
//! every writer (`ferrous mem -o`, batch files, the index) gets them without
//! further setup; [`install_signal_handlers`] installs them earlier.
//!
//! ```no_run
//! use std::io::Write;
//! # fn main() -> std::io::Result<()> {
//! let mut out = ferrous::cleanup::AtomicFile::create("out.sam")?;
//! out.write_all(b"@HD\tVN:1.5\n")?;
//! out.commit()?; // out.sam appears now, complete
//! # Ok(()) }
//! ```
//!
//! A final path that exists and is not a regular file (a FIFO, a device such
//! as `/dev/stdout` or `/dev/null`) is written directly: renaming over it
//! would replace it. A final path that is a symbolic link is resolved, so the
//! link is kept and its target replaced.

use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

/// Temporary files not yet committed or removed, by registration number.
struct Registry {
    files: Vec<(u64, PathBuf)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { files: Vec::new() });
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static HANDLERS: Once = Once::new();

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The signals after which registered temporary files are removed.
pub const CLEANUP_SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGHUP,
];

/// Installs the handlers for [`CLEANUP_SIGNALS`] (once per process; later
/// calls do nothing), except for signals ignored at that time, which stay
/// ignored. On one of those signals, a dedicated thread takes the
/// registry lock, which it never gives back (so no new temporary file can be
/// created or committed afterwards), removes every registered file and
/// re-raises the signal with its default action.
pub fn install_signal_handlers() {
    HANDLERS.call_once(|| {
        // A signal ignored when the process started (`nohup` ignores
        // SIGHUP; a shell ignores SIGINT in background jobs) stays ignored.
        let wanted: Vec<i32> = CLEANUP_SIGNALS
            .into_iter()
            .filter(|&sig| !is_ignored(sig))
            .collect();
        let Ok(mut signals) = signal_hook::iterator::Signals::new(wanted) else {
            return;
        };
        // If the thread cannot start, the signals are caught and nobody acts
        // on them; that cannot happen short of resource exhaustion at start.
        let _ = std::thread::Builder::new()
            .name("ferrous-cleanup".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    let reg = registry();
                    for (_, path) in &reg.files {
                        let _ = fs::remove_file(path);
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                    // Only reached if the default action did not end the
                    // process.
                    std::process::exit(128 + sig);
                }
            });
    });
}

/// Whether `sig`'s disposition is "ignore" (`SIG_IGN`).
fn is_ignored(sig: i32) -> bool {
    // SAFETY: with a null new action, sigaction only reads the current one
    // into `old`, a valid, zero-initialised `sigaction` (plain data).
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Creates `path` (which must not exist) for reading and writing and
/// registers it under `id`, under the registry lock, so that a signal
/// cannot fall between the two.
fn create_registered(id: u64, path: &Path) -> io::Result<File> {
    let mut reg = registry();
    let file = File::options()
        .write(true)
        .read(true)
        .create_new(true)
        .open(path)?;
    reg.files.push((id, path.to_path_buf()));
    Ok(file)
}

/// Removes `path` and unregisters `id`, under the registry lock.
fn remove_registered(id: u64, path: &Path) {
    let mut reg = registry();
    let _ = fs::remove_file(path);
    reg.files.retain(|(k, _)| *k != id);
}

/// A scratch file (a sorted run spilled to disk): registered like an
/// [`AtomicFile`]'s temporary file, and always removed: when dropped
/// (after use, on an error return, on a panic that unwinds) and on
/// SIGTERM, SIGINT or SIGHUP.
#[derive(Debug)]
pub struct TempFile {
    file: File,
    id: u64,
    path: PathBuf,
}

impl TempFile {
    /// Creates `DIR/.STEM.sort-PID-N.tmp`, open for reading and writing.
    pub fn create_in(dir: &Path, stem: &str) -> io::Result<TempFile> {
        install_signal_handlers();
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{stem}.sort-{}-{id}.tmp", std::process::id()));
        let file = create_registered(id, &path)?;
        Ok(TempFile { file, id, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file (reading and writing share its offset).
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        remove_registered(self.id, &self.path);
    }
}

/// A file being written under a temporary name until [`AtomicFile::commit`]
/// renames it to its final name. See the module documentation.
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<File>,
    /// `Some((registration, temporary path))` unless writing directly.
    temp: Option<(u64, PathBuf)>,
    /// Where the file ends up (the final path, symbolic links resolved).
    dest: PathBuf,
    /// The final path as given.
    final_path: PathBuf,
}

impl AtomicFile {
    /// Creates `DIR/.NAME.tmp-PID-N` for the final path `DIR/NAME` (or opens
    /// `NAME` itself for writing when it exists and is not a regular file),
    /// and registers the temporary file for removal.
    pub fn create(final_path: impl AsRef<Path>) -> io::Result<AtomicFile> {
        install_signal_handlers();
        let final_path = final_path.as_ref().to_path_buf();
        if let Ok(meta) = fs::metadata(&final_path) {
            if meta.is_dir() {
                return Err(io::Error::other(format!(
                    "{} is a directory",
                    final_path.display()
                )));
            }
            if !meta.is_file() {
                let file = File::options()
                    .write(true)
                    .truncate(true)
                    .open(&final_path)?;
                return Ok(AtomicFile {
                    file: Some(file),
                    temp: None,
                    dest: final_path.clone(),
                    final_path,
                });
            }
        }
        let is_link = fs::symlink_metadata(&final_path).is_ok_and(|m| m.file_type().is_symlink());
        let dest = if is_link {
            fs::canonicalize(&final_path).unwrap_or_else(|_| final_path.clone())
        } else {
            final_path.clone()
        };
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = dest
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let tmp = dest.with_file_name(format!(".{name}.tmp-{}-{id}", std::process::id()));
        let file = create_registered(id, &tmp)?;
        Ok(AtomicFile {
            file: Some(file),
            temp: Some((id, tmp)),
            dest,
            final_path,
        })
    }

    /// Where the bytes go until [`AtomicFile::commit`]: the temporary path
    /// (or the final path when writing directly).
    pub fn path(&self) -> &Path {
        match &self.temp {
            Some((_, tmp)) => tmp,
            None => &self.dest,
        }
    }

    /// The final path, as given to [`AtomicFile::create`].
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// The open file.
    pub fn file(&self) -> &File {
        self.file
            .as_ref()
            .expect("file present until commit or drop")
    }

    fn file_mut(&mut self) -> &mut File {
        self.file
            .as_mut()
            .expect("file present until commit or drop")
    }

    /// Syncs the file to disk and renames it to its final name (then syncs
    /// the directory, best effort). On error the temporary file is removed
    /// and the final path is untouched.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("file present until commit");
        let Some((id, tmp)) = self.temp.clone() else {
            // Writing directly into a FIFO or device: nothing to rename.
            return file.sync_all().or_else(|e| match e.kind() {
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported => Ok(()),
                _ => Err(e),
            });
        };
        file.sync_all()?;
        drop(file);
        {
            // Renamed and unregistered under the lock: a signal handler
            // either removes the temporary file before the rename (and the
            // rename never happens) or finds it committed.
            let mut reg = registry();
            fs::rename(&tmp, &self.dest)?;
            reg.files.retain(|(k, _)| *k != id);
        }
        self.temp = None;
        if let Some(dir) = self.dest.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file_mut().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file_mut().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file_mut().flush()
    }
}

impl Seek for AtomicFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file_mut().seek(pos)
    }
}

impl Drop for AtomicFile {
    /// An uncommitted file is removed (and unregistered).
    fn drop(&mut self) {
        if let Some((id, tmp)) = self.temp.take() {
            self.file = None;
            remove_registered(id, &tmp);
        }
    }
}

/// Temporary files registered now (for tests).
pub fn registered() -> Vec<PathBuf> {
    registry().files.iter().map(|(_, p)| p.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_renames_and_drop_removes() {
        let dir = tempfile::tempdir().unwrap();
        let fin = dir.path().join("out.sam");
        let mut f = AtomicFile::create(&fin).unwrap();
        let tmp = f.path().to_path_buf();
        assert_ne!(tmp, fin);
        assert_eq!(tmp.parent(), fin.parent());
        f.write_all(b"hello").unwrap();
        assert!(registered().contains(&tmp));
        assert!(!fin.exists());
        f.commit().unwrap();
        assert_eq!(fs::read(&fin).unwrap(), b"hello");
        assert!(!tmp.exists());
        assert!(!registered().contains(&tmp));

        // Dropped uncommitted: the temporary file goes, the old file stays.
        let mut g = AtomicFile::create(&fin).unwrap();
        g.write_all(b"partial").unwrap();
        let tmp = g.path().to_path_buf();
        drop(g);
        assert!(!tmp.exists());
        assert!(!registered().contains(&tmp));
        assert_eq!(fs::read(&fin).unwrap(), b"hello");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn temp_files_are_registered_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = TempFile::create_in(dir.path(), "out.bam").unwrap();
        let path = t.path().to_path_buf();
        t.file().write_all(b"run").unwrap();
        assert!(registered().contains(&path));
        assert_eq!(fs::read(&path).unwrap(), b"run");
        drop(t);
        assert!(!path.exists());
        assert!(!registered().contains(&path));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn symlink_keeps_the_link_and_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.sam");
        fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.sam");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut f = AtomicFile::create(&link).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn special_files_are_written_directly() {
        // A FIFO (not /dev/null: a regression would replace it when the
        // tests run as root).
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("note: no mkfifo; test skipped");
            return;
        }
        // Through a channel with a time limit: were the FIFO replaced, a
        // reader blocked in open() would never return.
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let fifo = fifo.clone();
            std::thread::spawn(move || tx.send(fs::read(fifo).unwrap()));
        }
        let mut f = AtomicFile::create(&fifo).unwrap();
        assert_eq!(f.path(), fifo.as_path());
        f.write_all(b"through the fifo").unwrap();
        f.commit().unwrap();
        let got = rx.recv_timeout(std::time::Duration::from_secs(30));
        assert_eq!(
            got.expect("nothing arrived through the FIFO"),
            b"through the fifo"
        );
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(AtomicFile::create(dir.path()).is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = AtomicFile::create(dir.path().join("no/such/dir/out")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
