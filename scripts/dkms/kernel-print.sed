# Applied by dkms-make (self-contained mode) to the private copy of the
# kernel's rust/kernel/print.rs and rust/kernel/kunit.rs. The target kernel
# has no CONFIG_RUST, so its vsprintf has no `%pA` (it warns and prints
# "(%pA?)"): the message is formatted here into a buffer (DmpText, appended
# to print.rs) and printed with `%s`. dkms-make checks that no `%pA` is left.
s/b"%pA\\0\\0\\0\\0\\0"/b"%s\\0\\0\\0\\0\\0\\0"/
s/b"%s: %pA\\0"/b"%s: %s\\0\\0"/
s/c"\\x01\([0-9]\)%pA"/c"\\x01\1%s"/
s/&args as \*const _ as \*const c_void,/crate::print::DmpText::new(args).as_ptr(), \/\/ dmp: %s/
