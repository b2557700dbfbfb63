
/// Added by dmp's self-contained build (scripts/dkms/dkms-make): the kernel
/// this copy of the crate runs on has no `%pA` in vsprintf (it was built
/// without CONFIG_RUST), so a message is formatted here, cut at 511 bytes,
/// and printed with `%s`.
#[doc(hidden)]
pub struct DmpText {
    buf: [u8; 512],
    len: usize,
}

impl DmpText {
    /// Formats `args` into a NUL-terminated buffer.
    pub fn new(args: fmt::Arguments<'_>) -> Self {
        let mut text = DmpText { buf: [0; 512], len: 0 };
        let _ = fmt::Write::write_fmt(&mut text, args);
        text
    }

    /// The NUL-terminated text, for `%s`; valid while `self` lives.
    pub fn as_ptr(&self) -> *const c_void {
        self.buf.as_ptr().cast()
    }
}

impl fmt::Write for DmpText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // `len < buf.len()` always: the last byte stays the NUL.
        let room = self.buf.len() - 1 - self.len;
        let n = core::cmp::min(room, s.len());
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
