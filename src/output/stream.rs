//! A stream that remembers its first failed write, so the run's exit status can tell a report
//! (or a fixed file) that did not reach its reader.

use std::cell::RefCell;
use std::io::{self, Write};

use anstream::adapter::StripBytes;

/// Forwards to `inner` until a write or flush fails, then fails every later call the same way
/// without touching `inner` (no output after a gap).
pub struct CheckedWriter<'a> {
    inner: &'a mut dyn Write,
    failure: Option<io::Error>,
}

impl<'a> CheckedWriter<'a> {
    pub fn new(inner: &'a mut dyn Write) -> CheckedWriter<'a> {
        CheckedWriter {
            inner,
            failure: None,
        }
    }

    /// The first error a write or flush returned.
    pub fn failure(&self) -> Option<&io::Error> {
        self.failure.as_ref()
    }

    fn check<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(error) = &result {
            if error.kind() != io::ErrorKind::Interrupted && self.failure.is_none() {
                self.failure = Some(io::Error::new(error.kind(), error.to_string()));
            }
        }
        result
    }

    fn failed(&self) -> Option<io::Error> {
        self.failure
            .as_ref()
            .map(|error| io::Error::new(error.kind(), error.to_string()))
    }
}

impl Write for CheckedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(error) = self.failed() {
            return Err(error);
        }
        let result = self.inner.write(buf);
        self.check(result)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if let Some(error) = self.failed() {
            return Err(error);
        }
        let result = self.inner.write_all(buf);
        self.check(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(error) = self.failed() {
            return Err(error);
        }
        let result = self.inner.flush();
        self.check(result)
    }
}

/// Standard output held in a buffer and standard error written through, in the order of the
/// writes: a write to the error side first flushes what the output side holds, so a reader of
/// both in one file (`2>&1`) sees what it saw unbuffered, in far fewer system calls. With
/// `strip`, colour codes are left out (as `anstream` does for a stream that is no terminal)
/// before the buffer, so the stripped pieces do not each cost a write.
pub struct Ordered<O: Write, E: Write> {
    inner: RefCell<OrderedInner<O, E>>,
}

/// How many bytes the output side holds before it writes them.
const HELD: usize = 64 * 1024;

struct OrderedInner<O: Write, E: Write> {
    out: O,
    held: Vec<u8>,
    strip: Option<StripBytes>,
    /// Every write so far was stripped by [`strip_styles_into`]: the stripper was never
    /// needed and is in its ground state.
    strip_fast: bool,
    err: E,
    /// A write of the held bytes failed: the output side fails from then on, the same way.
    out_failed: Option<io::Error>,
}

impl<O: Write, E: Write> OrderedInner<O, E> {
    fn write_held(&mut self) -> io::Result<()> {
        if let Some(error) = &self.out_failed {
            return Err(same_error(error));
        }
        let written = self
            .out
            .write_all(&self.held)
            .and_then(|()| self.out.flush());
        self.held.clear();
        if let Err(error) = &written {
            self.out_failed = Some(same_error(error));
        }
        written
    }
}

impl<O: Write, E: Write> Ordered<O, E> {
    pub fn new(out: O, strip: bool, err: E) -> Ordered<O, E> {
        Ordered {
            inner: RefCell::new(OrderedInner {
                out,
                held: Vec::with_capacity(HELD),
                strip: strip.then(StripBytes::default),
                strip_fast: true,
                err,
                out_failed: None,
            }),
        }
    }

    /// The output side.
    pub fn out(&self) -> OrderedOut<'_, O, E> {
        OrderedOut(&self.inner)
    }

    /// The error side.
    pub fn err(&self) -> OrderedErr<'_, O, E> {
        OrderedErr(&self.inner)
    }
}

pub struct OrderedOut<'a, O: Write, E: Write>(&'a RefCell<OrderedInner<O, E>>);

pub struct OrderedErr<'a, O: Write, E: Write>(&'a RefCell<OrderedInner<O, E>>);

impl<O: Write, E: Write> Write for OrderedOut<'_, O, E> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut inner = self.0.borrow_mut();
        if let Some(error) = &inner.out_failed {
            return Err(same_error(error));
        }
        let inner = &mut *inner;
        match &mut inner.strip {
            Some(_) if inner.strip_fast && strip_styles_into(buf, &mut inner.held) => {}
            Some(strip) => {
                inner.strip_fast = false;
                for printable in strip.strip_next(buf) {
                    inner.held.extend_from_slice(printable);
                }
            }
            None => inner.held.extend_from_slice(buf),
        }
        if inner.held.len() >= HELD {
            inner.write_held()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().write_held()
    }
}

impl<O: Write, E: Write> Write for OrderedErr<'_, O, E> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut inner = self.0.borrow_mut();
        if !inner.held.is_empty() {
            // A failure stays with the output side; the error side still writes.
            let _ = inner.write_held();
        }
        inner.err.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().err.flush()
    }
}

/// Appends `text` without its colour codes (`ESC [ 0-9;… m`) to `out`, when that is all
/// stripping does to it from the ground state and it leaves the stripper there: UTF-8 with
/// no other control byte than whitespace, no sequence left open. Otherwise false, and `out`
/// as it was. One pass, where the stripper's state machine takes a step per byte.
fn strip_styles_into(text: &[u8], out: &mut Vec<u8>) -> bool {
    const ESC: u8 = 0x1b;
    let start = out.len();
    let mut rest = text;
    loop {
        let plain_end = memchr::memchr(ESC, rest).unwrap_or(rest.len());
        let plain = &rest[..plain_end];
        let control = |&byte: &u8| {
            (byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r' | 0x0c)) || byte == 0x7f
        };
        // Printable ASCII and whitespace, in a pass without branches; else byte by byte.
        let printable = |byte: u8| (0x20..0x7f).contains(&byte) || byte == b'\n' || byte == b'\t';
        let simple = !plain
            .iter()
            .fold(false, |odd, &byte| odd | !printable(byte));
        if !simple && (plain.iter().any(control) || std::str::from_utf8(plain).is_err()) {
            out.truncate(start);
            return false;
        }
        out.extend_from_slice(plain);
        let Some(sequence) = rest.get(plain_end + 1..) else {
            return true;
        };
        let digits = sequence
            .iter()
            .skip(1)
            .take_while(|byte| byte.is_ascii_digit() || **byte == b';')
            .count();
        if sequence.first() != Some(&b'[') || sequence.get(1 + digits) != Some(&b'm') {
            out.truncate(start);
            return false;
        }
        rest = &sequence[2 + digits..];
    }
}

/// `error` again: the operating system's code when it has one (its message with it).
fn same_error(error: &io::Error) -> io::Error {
    match error.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(error.kind(), error.to_string()),
    }
}

impl<O: Write, E: Write> Drop for Ordered<O, E> {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        if !inner.held.is_empty() {
            let _ = inner.write_held();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `room` bytes, then fails as a full disk does.
    struct Full {
        room: usize,
        taken: Vec<u8>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(28));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.taken.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_first_failure_is_kept_and_nothing_is_written_after_it() {
        let mut full = Full {
            room: 4,
            taken: Vec::new(),
        };
        let mut out = CheckedWriter::new(&mut full);
        assert!(out.write_all(b"abcdef").is_err());
        assert!(out.failure().is_some());
        assert!(out.write_all(b"").is_err());
        drop(out);
        full.room = 100;
        let mut out = CheckedWriter::new(&mut full);
        out.write_all(b"gh").expect("room again");
        assert!(out.failure().is_none());
        assert_eq!(full.taken, b"abcdgh");
    }

    #[test]
    fn ordered_keeps_the_order_of_output_and_errors() {
        let log = RefCell::new(Vec::new());
        struct Side<'a>(&'a RefCell<Vec<u8>>, u8);
        impl Write for Side<'_> {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let mut log = self.0.borrow_mut();
                log.push(self.1);
                log.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let ordered = Ordered::new(Side(&log, b'o'), false, Side(&log, b'e'));
        write!(ordered.out(), "a\nb\n").unwrap();
        writeln!(ordered.err(), "x").unwrap();
        writeln!(ordered.out(), "c").unwrap();
        assert_eq!(*log.borrow(), b"oa\nb\nex\n");
        ordered.out().flush().unwrap();
        assert_eq!(*log.borrow(), b"oa\nb\nex\noc\n");
        let stripped = RefCell::new(Vec::new());
        let ordered = Ordered::new(Side(&stripped, b'o'), true, io::sink());
        write!(ordered.out(), "\x1b[").unwrap();
        writeln!(ordered.out(), "1mbold\x1b[0m").unwrap();
        ordered.out().flush().unwrap();
        assert_eq!(*stripped.borrow(), b"obold\n");
    }

    proptest::proptest! {
        /// Whatever is written, in whatever pieces, the stripped output is what `anstream`'s
        /// stripper makes of the same pieces.
        #[test]
        fn stripped_output_is_anstreams(
            writes in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "a", "é", "日", "\u{85}", "\u{9b}", "\x1b[1m", "\x1b[0m", "\x1b[31;1m",
                        "\x1b[", "\x1b", "[", "m", "1", ";", "\n", "\t", "\r", "\x0c", "\x07",
                        "\x7f", "\x00", " ",
                    ]),
                    0..12,
                ),
                0..8,
            )
        ) {
            let pieces: Vec<String> = writes.iter().map(|write| write.concat()).collect();
            let log = RefCell::new(Vec::new());
            struct Into<'a>(&'a RefCell<Vec<u8>>);
            impl Write for Into<'_> {
                fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                    self.0.borrow_mut().extend_from_slice(buf);
                    Ok(buf.len())
                }
                fn flush(&mut self) -> io::Result<()> {
                    Ok(())
                }
            }
            let ordered = Ordered::new(Into(&log), true, io::sink());
            for piece in &pieces {
                ordered.out().write_all(piece.as_bytes()).unwrap();
            }
            drop(ordered);
            let mut stripper = StripBytes::default();
            let mut expected = Vec::new();
            for piece in &pieces {
                for printable in stripper.strip_next(piece.as_bytes()) {
                    expected.extend_from_slice(printable);
                }
            }
            proptest::prop_assert_eq!(log.into_inner(), expected);
        }
    }
}
