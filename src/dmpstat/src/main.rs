//! dmpstat: not written yet (see issue 5).

fn main() {
    eprintln!("dmpstat: not implemented yet");
    std::process::exit(1);
}
