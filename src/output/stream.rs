//! A stream that remembers its first failed write, so the run's exit status can tell a report
//! (or a fixed file) that did not reach its reader.

use std::io::{self, Write};

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
}
