//! The `dmp-dkms` package: no Rust code. This crate only carries the
//! packaging metadata (cargo-deb, cargo-generate-rpm) of the DKMS source
//! package of the dmp kernel module and its configuration files in
//! `files/`; `scripts/package` builds it.
