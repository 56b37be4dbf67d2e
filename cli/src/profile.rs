//! `--profile FILE` for the commands that run models.

use std::path::Path;
use std::sync::Arc;

use ferrolite_runtime::profile::Profile;
use ferrolite_runtime::{Session, SessionOptions};

/// Session options with `threads` and, if given, the profile read from `path`.
pub fn session_options(threads: usize, path: Option<&Path>) -> Result<SessionOptions, String> {
    let mut options = SessionOptions::new().with_threads(threads);
    if let Some(path) = path {
        let p = Profile::load(path).map_err(|e| e.to_string())?;
        options = options.with_profile(Arc::new(p));
    }
    Ok(options)
}

/// Prints why the session does not use the profile it was given, if it does not.
pub fn warn(session: &Session) {
    if let Some(w) = session.profile_warning() {
        eprintln!("warning: {w}");
    }
}
