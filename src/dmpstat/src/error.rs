//! Errors of dmpstat and the exit codes they map to.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Exit code: success (and `check`: every compared counter is equal, or
/// within its bounds on a busy device).
pub const EXIT_OK: i32 = 0;
/// Exit code: `check` found counters that differ.
pub const EXIT_DIFFERS: i32 = 1;
/// Exit code: usage error (unknown flag, bad value, missing argument); set by clap.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: the dmp module is not loaded, a device does not exist or is not a
/// dmp device, or there is no dmp device where one is needed.
pub const EXIT_NOT_FOUND: i32 = 3;
/// Exit code: permission denied reading or writing a sysfs file.
pub const EXIT_PERMISSION: i32 = 4;
/// Exit code: any other failure (I/O error, sysfs content in an unexpected format).
pub const EXIT_FAILURE: i32 = 5;

/// Text for `--help` and the man page: the exit codes.
pub const EXIT_CODES_HELP: &str = "\
Exit status:
  0  success; for check: every compared counter is equal (idle) or within bounds (busy)
  1  check: counters differ
  2  usage error (unknown flag, bad value, missing argument)
  3  dmp module not loaded, device not found or not a dmp device, no dmp device
  4  permission denied (run as root, or see the udev rule of the dmp package)
  5  other error: I/O error, sysfs content in an unexpected format";

/// Hint printed with a permission error.
const PERMISSION_HINT: &str = "the statistics files are readable (and the reset files writable) \
by root only, unless the udev rule shipped with the dmp package is installed: \
run dmpstat as root, or install that rule and add your user to the group it names";

/// Everything that can go wrong.
#[derive(Debug)]
pub enum Error {
    /// `ROOT/module/dmp` does not exist.
    ModuleNotLoaded {
        /// The directory that was looked for.
        path: PathBuf,
    },
    /// The module is loaded but its statistics directory is missing.
    NoStatDir {
        /// The directory that was looked for.
        path: PathBuf,
    },
    /// No dmp device exists, and the command needs one.
    NoDevices {
        /// What the command wanted to do.
        what: &'static str,
    },
    /// No block device of that name.
    NotFound {
        /// The argument as given.
        arg: String,
    },
    /// A device-mapper device that has no dmp statistics.
    NotDmp {
        /// The argument as given.
        arg: String,
        /// Its kernel name (dm-N).
        kernel: String,
    },
    /// The aggregate was named where only a device is accepted.
    AggregateNotAllowed {
        /// What to use instead.
        hint: &'static str,
    },
    /// EACCES / EPERM on a sysfs file.
    Permission {
        /// The file.
        path: PathBuf,
        /// Reading or writing.
        writing: bool,
    },
    /// Another I/O error on a sysfs file.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A sysfs file whose content is not in the expected format.
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A file that a module older than the feature asked for lacks.
    Missing {
        /// The file.
        path: PathBuf,
        /// What needs it.
        what: &'static str,
    },
    /// The command shows what only a module that times requests measures.
    Untimed {
        /// What needs it.
        what: &'static str,
    },
    /// Writing the report failed (other than a closed pipe).
    Output(io::Error),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ModuleNotLoaded { .. }
            | Error::NoStatDir { .. }
            | Error::NoDevices { .. }
            | Error::NotFound { .. }
            | Error::NotDmp { .. } => EXIT_NOT_FOUND,
            Error::AggregateNotAllowed { .. } => EXIT_USAGE,
            Error::Permission { .. } => EXIT_PERMISSION,
            Error::Io { .. }
            | Error::Parse { .. }
            | Error::Missing { .. }
            | Error::Untimed { .. }
            | Error::Output(_) => EXIT_FAILURE,
        }
    }

    /// An error for an I/O failure on `path`, telling permission problems apart.
    pub fn io(path: PathBuf, source: io::Error, writing: bool) -> Error {
        match source.kind() {
            io::ErrorKind::PermissionDenied => Error::Permission { path, writing },
            _ => Error::Io { path, source },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ModuleNotLoaded { path } => write!(
                f,
                "the dmp module is not loaded ({} does not exist); load it with: modprobe dmp",
                path.display()
            ),
            Error::NoStatDir { path } => write!(
                f,
                "the dmp module is loaded but {} does not exist; is this the dmp module of this package?",
                path.display()
            ),
            Error::NoDevices { what } => write!(
                f,
                "no dmp device exists, nothing to {what}; create one with: \
                 dmsetup create NAME --table \"0 SECTORS dmp /dev/UNDERLYING\""
            ),
            Error::NotFound { arg } => write!(
                f,
                "{arg}: no such device (give a dmsetup name, a kernel name such as dm-0, \
                 /dev/mapper/NAME or /dev/dm-N)"
            ),
            Error::NotDmp { arg, kernel } if arg == kernel => write!(
                f,
                "{arg}: not a dmp device (it has no dmp target in its table)"
            ),
            Error::NotDmp { arg, kernel } => write!(
                f,
                "{arg} ({kernel}): not a dmp device (it has no dmp target in its table)"
            ),
            Error::AggregateNotAllowed { hint } => write!(f, "all_devs is not a device; {hint}"),
            Error::Permission { path, writing } => write!(
                f,
                "permission denied {} {}: {}",
                if *writing { "writing" } else { "reading" },
                path.display(),
                PERMISSION_HINT
            ),
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::Parse { path, detail } => write!(
                f,
                "{}: unexpected content ({}); is the dmp module of the same version as dmpstat?",
                path.display(),
                detail
            ),
            Error::Missing { path, what } => write!(
                f,
                "{}: no such file; {what} needs a dmp module that has the stat and latency files",
                path.display()
            ),
            Error::Untimed { what } => write!(
                f,
                "{what} shows request times, and dmp does not time requests (module parameter \
                 latency=0): reload it with `modprobe -r dmp && modprobe dmp latency=1`"
            ),
            Error::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// A serialization failure, reported like an output error.
pub fn json_error(e: serde_json::Error) -> Error {
    Error::Output(io::Error::other(e))
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
