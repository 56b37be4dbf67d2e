//! Zoo (in progress).
