//! dmpstat: show, watch, check and reset the I/O statistics of dmp devices.

fn main() {
    std::process::exit(dmpstat::main_with_args(std::env::args_os()));
}
